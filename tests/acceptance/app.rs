//! `parallel_app`, `data "parallel_apps"` and `list "parallel_app"` through
//! real terraform: create, refresh, drift, replace, abandon, import and
//! query.

use crate::harness::{Scenario, require_terraform};
use parallel_emulator::Method;

fn app_block(label: &str, name: &str, extra: &str) -> String {
    format!("resource \"parallel_app\" \"{label}\" {{\n  app_name = \"{name}\"\n{extra}}}\n")
}

/// The emulator's app of that name, if any.
fn app_named(s: &Scenario, name: &str) -> Option<String> {
    s.emulator
        .apps()
        .into_iter()
        .find(|app| app.app_name == name)
        .map(|app| app.app_id.to_string())
}

fn app_lists(s: &Scenario) -> usize {
    s.emulator
        .requests()
        .iter()
        .filter(|r| r.method == Method::GET && r.path == "/service/v1/apps")
        .count()
}

#[test]
fn an_app_and_its_key_are_created_read_and_deleted() {
    let s = Scenario::new();
    s.config(&format!(
        "{}\nresource \"parallel_api_key\" \"k\" {{\n  app_id       = parallel_app.main.app_id\n  \
         api_key_name = \"svc\"\n}}\n",
        app_block("main", "svc-search", "")
    ));
    s.apply();
    let app_id = app_named(&s, "svc-search").expect("the app exists in Parallel");
    let values = &s.resource("parallel_app.main")["values"];
    assert_eq!(values["app_id"], app_id.as_str());
    assert_eq!(values["id"], app_id.as_str());
    assert_eq!(values["org_id"], s.app.org_id.as_str());
    assert_eq!(values["deletion_policy"], "DELETE");
    assert_eq!(s.only_live_key().app_id.to_string(), app_id);
    s.plan_empty();
    s.destroy();
    assert_eq!(app_named(&s, "svc-search"), None, "destroy deletes the app");
    s.finish();
}

#[test]
fn a_refresh_of_twenty_apps_lists_them_once() {
    let s = Scenario::new();
    s.config(
        "resource \"parallel_app\" \"many\" {\n  count    = 20\n  app_name = \"svc-${count.index}\"\n}\n\
         data \"parallel_apps\" \"all\" {\n  depends_on = [parallel_app.many]\n}\n\
         output \"count\" {\n  value = length(data.parallel_apps.all.apps)\n}\n",
    );
    s.apply();
    assert_eq!(
        s.outputs_json()["count"]["value"],
        21,
        "20 apps and the scenario's own"
    );
    s.emulator.clear_requests();
    s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    assert_eq!(
        app_lists(&s),
        1,
        "a refresh of 20 apps and a data source must share one list: {:?}",
        s.request_summary()
    );
    s.plan_empty();
    s.finish();
}

/// Creating 30 apps lists them at most twice, and each way of refreshing
/// them makes exactly one API call, the app list:
/// the provider shares it among every app refreshed in the run, and a new
/// run (a new provider process) lists again rather than trusting an old one.
#[test]
fn every_refresh_of_thirty_apps_is_exactly_one_list_call() {
    let s = Scenario::new();
    s.config(
        "resource \"parallel_app\" \"many\" {\n  count    = 30\n  app_name = \"svc-${count.index}\"\n}\n",
    );
    // Creating them lists at most twice, not once per app: a new app's
    // organization is the token's, known from the first list, and every
    // create that needed it before that list ended shares the next one.
    s.emulator.clear_requests();
    s.terraform_ok(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        app_lists(&s) <= 2,
        "creating 30 apps must list them at most twice: {:?}",
        s.request_summary()
    );
    s.plan_empty();
    let refreshes: [&[&str]; 4] = [
        &[
            "plan",
            "-refresh-only",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
        ],
        &[
            "plan",
            "-refresh-only",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
        ],
        &[
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ],
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    ];
    for args in refreshes {
        s.emulator.clear_requests();
        let refreshed = s.terraform(args);
        assert_eq!(
            refreshed.code,
            Some(0),
            "terraform {} must succeed with nothing to change\n{}",
            refreshed.command,
            refreshed.report()
        );
        assert_eq!(
            s.request_summary().len(),
            1,
            "terraform {} of 30 apps must make one API call: {:?}",
            refreshed.command,
            s.request_summary()
        );
        assert_eq!(
            app_lists(&s),
            1,
            "terraform {} of 30 apps must list them once: {:?}",
            refreshed.command,
            s.request_summary()
        );
    }
    s.finish();
}

#[test]
fn an_app_deleted_outside_terraform_is_planned_again() {
    let s = Scenario::new();
    s.config(&app_block("main", "svc-drift", ""));
    s.apply();
    let app_id = app_named(&s, "svc-drift").expect("created");
    assert!(s.emulator.delete_app_out_of_band(&app_id));
    let plan = s.terraform(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(plan.code, Some(2), "{}", plan.report());
    plan.assert_contains("parallel_app.main will be created");
    s.apply();
    assert!(app_named(&s, "svc-drift").is_some_and(|id| id != app_id));
    s.plan_empty();
    s.finish();
}

#[test]
fn renaming_an_app_replaces_it_and_its_keys_follow() {
    let s = Scenario::new();
    let config = |name: &str| {
        format!(
            "{}\nresource \"parallel_api_key\" \"k\" {{\n  app_id       = parallel_app.main.app_id\n  \
             api_key_name = \"svc\"\n}}\n",
            app_block("main", name, "")
        )
    };
    s.config(&config("svc-old"));
    s.apply();
    let old_key = s.only_live_key();
    s.config(&config("svc-new"));
    let applied = s.apply();
    applied.assert_contains("2 added, 0 changed, 2 destroyed");
    assert_eq!(app_named(&s, "svc-old"), None);
    let new_app = app_named(&s, "svc-new").expect("the new app");
    let new_key = s.only_live_key();
    assert_ne!(new_key.api_key_id, old_key.api_key_id);
    assert_eq!(new_key.app_id.to_string(), new_app);
    s.plan_empty();
    s.finish();
}

#[test]
fn abandon_leaves_the_app_and_changing_only_the_policy_makes_no_api_call() {
    let s = Scenario::new();
    s.config(&app_block("main", "svc-kept", ""));
    s.apply();
    s.emulator.clear_requests();
    s.config(&app_block(
        "main",
        "svc-kept",
        "  deletion_policy = \"ABANDON\"\n",
    ));
    s.apply().assert_contains("0 added, 1 changed, 0 destroyed");
    assert!(
        s.emulator
            .requests()
            .iter()
            .all(|r| r.method == Method::GET),
        "only refreshes: {:?}",
        s.request_summary()
    );
    s.plan_empty();
    let destroyed = s.destroy();
    let app = app_named(&s, "svc-kept").expect("ABANDON keeps the app");
    destroyed.assert_contains("Warning: App left in Parallel (deletion_policy = \"ABANDON\")");
    destroyed.assert_contains(&format!(
        "Terraform removed app \"svc-kept\" (ID {app}) from the state and left it alive"
    ));
    s.finish();
}

#[test]
fn an_abandoned_app_replaced_is_said_to_stay_alive_at_plan_and_apply() {
    let s = Scenario::new();
    s.config(&app_block(
        "main",
        "svc-old",
        "  deletion_policy = \"ABANDON\"\n",
    ));
    s.apply();
    let old = app_named(&s, "svc-old").expect("the app");
    // Renaming replaces the app; the old one follows the policy in state,
    // though this same apply switches to DELETE.
    s.config(&app_block(
        "main",
        "svc-new",
        "  deletion_policy = \"DELETE\"\n",
    ));
    let planned = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    planned.assert_contains("Warning: The object being replaced will be left alive");
    planned.assert_contains(&format!("This plan replaces app \"svc-old\" (ID {old})"));
    let applied = s.apply();
    applied.assert_contains("1 added, 0 changed, 1 destroyed");
    applied.assert_contains("Warning: App left in Parallel");
    assert_eq!(
        app_named(&s, "svc-old"),
        Some(old.clone()),
        "left alive, as said"
    );
    assert!(s.emulator.delete_app_out_of_band(&old));
    s.finish();
}

#[test]
fn bad_app_arguments_fail_validate_naming_the_attribute() {
    let s = Scenario::new();
    for (extra, name, needle) in [
        ("", "", "Invalid app_name"),
        (
            "  deletion_policy = \"delete\"\n",
            "svc",
            "Invalid deletion_policy",
        ),
    ] {
        s.config(&app_block("main", name, extra));
        let failed = s.terraform_fails(&["validate", "-no-color"]);
        failed.assert_contains(needle);
    }
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn an_existing_app_is_imported_by_id_with_an_empty_plan_after() {
    let s = Scenario::new();
    let existing = s.emulator.create_app("svc-existing");
    s.config(&format!(
        "{}{}",
        app_block("main", "svc-existing", ""),
        app_block("other", "svc-other", "")
    ));
    let refused = s.terraform_fails(&[
        "import",
        "-input=false",
        "-no-color",
        "parallel_app.other",
        "not-a-uuid",
    ]);
    refused.assert_contains("Invalid app ID to import");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.config(&app_block("main", "svc-existing", ""));
    s.terraform_ok(&[
        "import",
        "-input=false",
        "-no-color",
        "parallel_app.main",
        &existing.app_id.to_string().to_uppercase(),
    ]);
    let values = &s.resource("parallel_app.main")["values"];
    assert_eq!(values["app_id"], existing.app_id.to_string().as_str());
    s.plan_empty();
    s.finish();
}

#[test]
fn an_import_block_with_an_identity_imports_the_app() {
    if !require_terraform("1.12", "import by identity") {
        return;
    }
    let s = Scenario::new();
    let existing = s.emulator.create_app("svc-by-identity");
    s.config(&format!(
        "{}\nimport {{\n  to       = parallel_app.main\n  identity = {{ app_id = \"{}\" }}\n}}\n",
        app_block("main", "svc-by-identity", ""),
        existing.app_id
    ));
    s.apply()
        .assert_contains("1 imported, 0 added, 0 changed, 0 destroyed");
    s.plan_empty();
    s.finish();
}

#[test]
fn query_with_generated_config_imports_three_apps_with_an_empty_plan_after() {
    if !require_terraform("1.14", "terraform query") {
        return;
    }
    let s = Scenario::new();
    for n in 1..=3 {
        s.emulator.create_app(&format!("svc-{n}"));
    }
    s.config("");
    s.write(
        "apps.tfquery.hcl",
        "list \"parallel_app\" \"svc\" {\n  provider = parallel\n  config {\n    \
         name_prefix = \"svc-\"\n  }\n}\n",
    );
    let query = s.terraform_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    for n in 1..=3 {
        query.assert_contains(&format!("svc-{n}"));
    }
    std::fs::remove_file(s.work_dir().join("apps.tfquery.hcl")).expect("remove the query");
    s.apply()
        .assert_contains("3 imported, 0 added, 0 changed, 0 destroyed");
    s.plan_empty();
    // The imported apps are now managed: destroying deletes them.
    s.destroy();
    assert!((1..=3).all(|n| app_named(&s, &format!("svc-{n}")).is_none()));
    s.write("generated.tf", "");
    s.finish();
}

#[test]
fn an_invalid_list_config_fails_naming_the_attribute_with_no_api_call() {
    if !require_terraform("1.14", "terraform query") {
        return;
    }
    let s = Scenario::new();
    s.config("");
    s.write(
        "apps.tfquery.hcl",
        "list \"parallel_app\" \"svc\" {\n  provider = parallel\n  config {\n    \
         name_prefix = \"\"\n  }\n}\n",
    );
    s.terraform_fails(&["query", "-no-color"])
        .assert_contains("Invalid name_prefix");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    std::fs::remove_file(s.work_dir().join("apps.tfquery.hcl")).expect("remove the query");
    s.finish();
}
