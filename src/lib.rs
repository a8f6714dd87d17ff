//! keyward: a JWT authentication and authorization server speaking
//! djangorestframework-simplejwt's wire contract.

pub mod actors;
pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod import;
pub mod jwt;
pub mod metrics;
pub mod prepare;
pub mod propagation;
pub mod startup;
pub mod superuser;
pub mod telemetry;
pub mod validation;
