//! Row, insert and changeset types and the queries over them. Each function takes a concrete
//! diesel connection through [`crate::with_conn!`]; none knows about HTTP.

pub mod secret;
pub mod token;
pub mod user;
