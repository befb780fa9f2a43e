//! The registry documentation is generated (`bash scripts/docs.sh`), so
//! docs/ must be exactly what docgen makes of the schema the real Terraform
//! reports for this build, plus examples/ and templates/: neither a new
//! attribute nor a changed description can ship with stale docs. CI also
//! runs `scripts/docs.sh --check` before the tests, which fails sooner;
//! this test makes `cargo test` alone enough to catch it.
//!
//! Terraform 1.12 and later also report identity schemas, which then appear
//! on the pages: docs/ is generated with the Terraform CI tests with.

use super::harness::{PROVIDER_BINARY, PROVIDER_SOURCE, require_terraform, terraform_binary};
use docgen::ProviderSource;
use std::path::Path;
use terraform_provider_parallel::provider::{ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_CA_CERT_FILE};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_docs_are_what_scripts_docs_sh_generates() {
    // scripts/docs.sh generates with Terraform 1.15.5, whose schema
    // includes the identity schemas that Terraform 1.11 does not report.
    if !require_terraform("1.12", "identity schemas in the docs") {
        return;
    }
    let source = ProviderSource::parse(PROVIDER_SOURCE).expect("the provider's source address");
    let provider_dir = Path::new(PROVIDER_BINARY)
        .parent()
        .expect("cargo puts the binary in a directory");
    let schema = docgen::terraform::provider_schema_json(
        terraform_binary().as_os_str(),
        provider_dir,
        &source,
    )
    .unwrap_or_else(|err| panic!("getting the schema from terraform failed: {err}"));
    let docs = docgen::generate(&schema, root(), &source)
        .unwrap_or_else(|err| panic!("generating docs/ failed: {err}"));
    let drift = docgen::compare(&docs, root()).unwrap_or_else(|err| panic!("{err}"));
    let listed: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(
        drift.is_empty(),
        "docs/ is not what `bash scripts/docs.sh` generates:\n{}\nRun it and commit docs/.",
        listed.join("\n")
    );
}

/// The generated page lists the attributes; the environment variables are
/// in their descriptions and the index template, where an edit could drop
/// them.
#[test]
fn the_index_names_every_environment_variable() {
    let path = root().join("docs/index.md");
    let index = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    for variable in [ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_CA_CERT_FILE] {
        assert!(
            index.contains(&format!("`{variable}`")),
            "docs/index.md does not mention `{variable}`"
        );
    }
}
