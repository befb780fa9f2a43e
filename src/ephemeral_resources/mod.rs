//! One file per ephemeral resource type (Terraform 1.10 and later).

pub mod api_key;
