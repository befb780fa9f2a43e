//! One file per data source type.

pub mod app;
pub mod balance;
