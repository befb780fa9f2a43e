//! Resource identity (Terraform 1.12 and later): what Terraform stores
//! beside a key's state, and imports by identity.

use crate::harness::{Scenario, require_terraform};
use serde_json::{Value, json};

const SOME_KEY_ID: &str = "0b7f3c1e-1d2a-4a53-9b7e-0d5f2d6c9a10";

fn key_block(app_id: &str) -> String {
    format!(
        "resource \"parallel_api_key\" \"main\" {{\n  app_id       = \"{app_id}\"\n  \
         api_key_name = \"ci\"\n}}\n"
    )
}

/// The one instance of `parallel_api_key.main` in the state file.
fn stored_instance(s: &Scenario) -> Value {
    let text = std::fs::read_to_string(s.work_dir().join("terraform.tfstate")).expect("state");
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let resource = state["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["name"] == "main"))
        .cloned()
        .expect("parallel_api_key.main in state");
    resource["instances"][0].clone()
}

#[test]
fn the_identity_of_a_key_is_stored_beside_its_state() {
    if !require_terraform("1.12", "resource identity") {
        return;
    }
    let s = Scenario::new();
    s.config(&key_block(&s.app_id()));
    s.apply();
    let key = s.only_live_key();
    let instance = stored_instance(&s);
    assert_eq!(
        instance["identity"],
        json!({"app_id": s.app_id(), "api_key_id": key.api_key_id}),
        "{instance:#}"
    );
    assert_eq!(instance["identity_schema_version"], 0);
    // Refreshing keeps it, and nothing changes.
    s.plan_empty();
    assert_eq!(stored_instance(&s)["identity"], instance["identity"]);
    s.finish();
}

#[test]
fn import_by_identity_is_refused_like_import_by_id() {
    if !require_terraform("1.12", "import by identity") {
        return;
    }
    let s = Scenario::new();
    s.config(&format!(
        "{}\nimport {{\n  to       = parallel_api_key.main\n  identity = {{\n    \
         app_id     = \"{}\"\n    api_key_id = \"{SOME_KEY_ID}\"\n  }}\n}}\n",
        key_block(&s.app_id()),
        s.app_id()
    ));
    let refused = s.plan_fails();
    refused.assert_contains("parallel_api_key cannot be imported");
    refused.assert_contains("returns a key's secret only once");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn an_import_identity_of_the_wrong_shape_names_the_attribute() {
    if !require_terraform("1.12", "import by identity") {
        return;
    }
    let s = Scenario::new();
    let import = |identity: &str| {
        format!(
            "{}\nimport {{\n  to       = parallel_api_key.main\n  identity = {{\n{identity}\n  \
             }}\n}}\n",
            key_block(&s.app_id())
        )
    };
    // Terraform checks the identity against our identity schema itself.
    s.config(&import(&format!("    app_id = \"{}\"", s.app_id())));
    s.plan_fails()
        .assert_contains("attribute \"api_key_id\" is required");
    // A null passes Terraform's type check; the provider names it.
    s.config(&import(&format!(
        "    app_id = \"{}\"\n    api_key_id = null",
        s.app_id()
    )));
    let null = s.plan_fails();
    null.assert_contains("Missing identity attribute");
    null.assert_contains("\"api_key_id\"");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.write("main.tf", "");
    s.finish();
}
