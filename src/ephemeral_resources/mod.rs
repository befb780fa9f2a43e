//! One file per ephemeral resource type (Terraform 1.10 and later).

pub mod abandoned;
pub mod api_key;
