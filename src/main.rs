use std::process::ExitCode;
use std::sync::Arc;
use terraform_provider_parallel::provider::ParallelProvider;
use tfplugin::server::{self, ServeOptions};

fn main() -> ExitCode {
    let mut options = ServeOptions {
        debug: false,
        provider_address: terraform_provider_parallel::PROVIDER_ADDRESS.to_owned(),
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" => options.debug = true,
            "--version" | "-v" => {
                println!("terraform-provider-parallel {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!(
                    "unknown argument {other:?}; terraform-provider-parallel takes only --debug \
                     (serve for a debugger) or --version"
                );
                return ExitCode::from(2);
            }
        }
    }
    server::run(
        Arc::new(ParallelProvider::new()),
        options,
        "terraform_provider_parallel",
    )
}
