//! Imports from other authentication systems into keyward's database.

pub mod django;
