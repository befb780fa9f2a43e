//! One file per data source type.

pub mod app;
pub mod apps;
pub mod balance;
