//! One file per resource type.

pub mod api_key;
pub mod app;
pub mod rotating_api_key;
