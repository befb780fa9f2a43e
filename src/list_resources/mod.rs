//! One file per list resource type (`terraform query`, Terraform 1.14).

pub mod app;
