//! terraform-provider-parallel: Parallel's Account API as Terraform
//! resources.
//!
//! `tfplugin` speaks Terraform's plugin protocol and knows nothing of
//! Parallel; `client` is the typed Account API client; `provider` and the
//! objects (`resources`, `data_sources`, `ephemeral_resources`, `actions`)
//! join the two, with what they share in `toolkit`.

pub mod actions;
pub mod client;
pub mod data_sources;
pub mod ephemeral_resources;
pub mod journal;
pub mod list_resources;
pub mod login;
pub mod provider;
pub mod resources;
pub mod secret;
pub mod toolkit;

/// The registry address Terraform knows this provider by.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/parallel-web/parallel";
