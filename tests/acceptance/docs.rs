//! The registry documentation must cover every attribute the provider
//! declares, so a new attribute cannot ship undocumented.

use terraform_provider_parallel::data_sources::app;
use terraform_provider_parallel::provider::{
    ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_CA_CERT_FILE, provider_schema,
};
use terraform_provider_parallel::resources::api_key;
use tfplugin::Block;

/// Every attribute and nested block name, nested ones as well.
fn declared_names(block: &Block) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = block.attributes.iter().map(|a| a.name).collect();
    for nested in &block.blocks {
        names.push(nested.type_name);
        names.extend(declared_names(&nested.block));
    }
    names
}

fn read_doc(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read the documentation {}: {err}", path.display()))
}

/// Names missing from `doc`; a name counts when written as code, `name`.
fn undocumented<'a>(doc: &str, names: &[&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|name| !doc.contains(&format!("`{name}`")))
        .collect()
}

#[test]
fn every_resource_attribute_is_documented() {
    let doc = read_doc("docs/resources/api_key.md");
    let names = declared_names(&api_key::schema().block);
    assert!(names.contains(&"raw_api_key") && names.contains(&"timeouts"));
    let missing = undocumented(&doc, &names);
    assert!(
        missing.is_empty(),
        "docs/resources/api_key.md does not mention (as `name`) these attributes of \
         parallel_api_key: {missing:?}"
    );
}

#[test]
fn every_data_source_attribute_is_documented() {
    let doc = read_doc("docs/data-sources/app.md");
    let missing = undocumented(&doc, &declared_names(&app::schema().block));
    assert!(
        missing.is_empty(),
        "docs/data-sources/app.md does not mention (as `name`) these attributes of \
         parallel_app: {missing:?}"
    );
}

#[test]
fn every_provider_attribute_and_environment_variable_is_documented() {
    let doc = read_doc("docs/index.md");
    let names = declared_names(&provider_schema().block);
    assert!(names.contains(&"access_token"));
    let missing = undocumented(&doc, &names);
    assert!(
        missing.is_empty(),
        "docs/index.md does not mention (as `name`) these provider attributes: {missing:?}"
    );
    for variable in [ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_CA_CERT_FILE] {
        assert!(
            doc.contains(variable),
            "docs/index.md does not mention {variable}"
        );
    }
}

#[test]
fn a_name_counts_only_when_written_as_code() {
    let doc = "Set `access_token`, or mention base_url in prose.";
    assert_eq!(
        undocumented(doc, &["access_token", "base_url"]),
        ["base_url"]
    );
}
