//! Installing the provider the way users do: from a filesystem mirror,
//! through `terraform init`, with a dependency lock file.

use crate::harness::{PROVIDER_VERSION, Scenario, flatten};

#[test]
fn terraform_init_installs_the_provider_from_a_filesystem_mirror() {
    let s = Scenario::with_filesystem_mirror();
    s.write(
        "main.tf",
        &format!(
            r#"
terraform {{
  required_providers {{
    parallel = {{
      source  = "parallel-web/parallel"
      version = "{PROVIDER_VERSION}"
    }}
  }}
}}

provider "parallel" {{}}

resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "installed"
}}
"#,
            s.app_id()
        ),
    );
    let init = s.terraform_ok(&["init", "-input=false", "-no-color"]);
    init.assert_contains(&format!(
        "Installing parallel-web/parallel v{PROVIDER_VERSION}"
    ));
    init.assert_contains(&format!(
        "Installed parallel-web/parallel v{PROVIDER_VERSION}"
    ));
    let lock = std::fs::read_to_string(s.work_dir().join(".terraform.lock.hcl"))
        .expect("terraform init writes .terraform.lock.hcl");
    let flat_lock = flatten(&lock);
    assert!(
        flat_lock.contains("provider \"registry.terraform.io/parallel-web/parallel\"")
            && flat_lock.contains(&format!("version = \"{PROVIDER_VERSION}\""))
            && flat_lock.contains("h1:"),
        "the lock file must pin the provider:\n{lock}"
    );
    // The warning shown with dev_overrides must not be here: this is the
    // real installation path.
    init.assert_not_contains("Provider development overrides are in effect");

    let applied = s.apply();
    applied.assert_not_contains("Provider development overrides are in effect");
    let key = s.only_live_key();
    assert_eq!(key.api_key_name, "installed");
    s.finish();
}
