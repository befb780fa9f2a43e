//! `terraform-provider-parallel --debug`: the provider runs on its own (under
//! a debugger, say) and terraform attaches to it through
//! TF_REATTACH_PROVIDERS, as with providers written in Go.

use crate::harness::Scenario;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the debug-mode provider however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn terraform_attaches_to_a_provider_started_with_debug() {
    let s = Scenario::new();
    // Terraform does not pass its environment to a provider it did not
    // start, so the provider gets the API settings directly.
    let child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-parallel"))
        .arg("--debug")
        .env("PARALLEL_ACCESS_TOKEN", s.emulator.token())
        .env("PARALLEL_SERVICE_API_URL", s.emulator.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider in debug mode");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("piped stdout");
    let reattach = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let value = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='")?;
            Some(value.trim_end_matches('\'').to_owned())
        })
        .expect("debug mode prints TF_REATTACH_PROVIDERS");
    let parsed: serde_json::Value = serde_json::from_str(&reattach).expect("reattach JSON");
    let entry = &parsed["registry.terraform.io/parallel-web/parallel"];
    assert_eq!(entry["ProtocolVersion"], 6, "{parsed:#}");
    assert_eq!(entry["Addr"]["Network"], "unix", "{parsed:#}");

    let s = s.with_reattach(reattach);
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "debugged"
}}
"#,
        s.app_id()
    ));
    s.apply();
    assert_eq!(s.only_live_key().api_key_name, "debugged");
    s.finish();
    drop(running);
}
