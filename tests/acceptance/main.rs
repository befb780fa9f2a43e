//! Acceptance tests: the real `terraform` binary drives the provider binary
//! against the Account API emulator. One test binary (linking is slow), one
//! module per concern; `harness` holds what every scenario shares.

mod answers;
mod api_key;
mod app;
mod balance;
mod data_source;
mod debug_mode;
mod deletion_policy;
mod diagnostics;
mod docs;
mod emulator_download;
mod ephemeral_api_key;
mod ephemeral_left_open;
mod faults;
mod guide_hcl;
mod harness;
mod identity;
mod install;
mod interrupted_charge;
mod interrupted_revoke;
mod killed_terraform;
mod logging;
mod login;
mod module_tests;
mod plugin_tls;
mod readme;
mod release;
mod rotating_api_key;
mod sensitive_warning;
mod state_surgery;
mod terraform_versions;
