use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use terraform_provider_parallel::PROVIDER_ADDRESS;
use terraform_provider_parallel::client::DEFAULT_REQUEST_TIMEOUT;
use terraform_provider_parallel::provider::ParallelProvider;
use tfplugin::handshake::{MAGIC_COOKIE_KEY, PROTOCOL_REVISION};
use tfplugin::server::{self, ServeOptions};

/// What a person who runs the binary by hand needs to know; Terraform
/// itself never reads this.
const HELP: &str = "\
terraform-provider-parallel: the Terraform provider for Parallel's Account API.

Terraform starts this program by itself; you do not run it. Declare it in your
configuration and run terraform:

  terraform {
    required_providers {
      parallel = { source = \"parallel-web/parallel\" }
    }
  }

Options:
  --debug     serve for a debugger, printing TF_REATTACH_PROVIDERS to export
  --version   print the provider's version and the plugin protocol it speaks
  --help      print this text";

fn main() -> ExitCode {
    let mut options = ServeOptions {
        debug: false,
        provider_address: PROVIDER_ADDRESS.to_owned(),
        // A create already sent when Terraform is killed runs to its answer
        // (its key must be recorded); one attempt takes at most the default
        // request_timeout, and retries stop once Terraform is gone.
        drain_grace: DEFAULT_REQUEST_TIMEOUT + Duration::from_secs(5),
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" => options.debug = true,
            "--version" | "-v" => {
                println!(
                    "terraform-provider-parallel {} (Terraform plugin protocol {PROTOCOL_REVISION})",
                    env!("CARGO_PKG_VERSION")
                );
                return ExitCode::SUCCESS;
            }
            "--help" | "-h" => {
                println!("{HELP}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{HELP}");
                return ExitCode::from(2);
            }
        }
    }
    // Run by hand: explain, rather than leave only the protocol layer's
    // one-line refusal.
    if !options.debug && std::env::var_os(MAGIC_COOKIE_KEY).is_none() {
        eprintln!("{HELP}");
        return ExitCode::FAILURE;
    }
    server::run(
        Arc::new(ParallelProvider::new()),
        options,
        "terraform_provider_parallel",
    )
}
