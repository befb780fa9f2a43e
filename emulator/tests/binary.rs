//! The `parallel-emulator` binary: its stdout lines and clean exit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Kills the child if a test fails half-way, so no server is left behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn prints_environment_serves_and_stops_on_sigterm() {
    let child = Command::new(env!("CARGO_BIN_EXE_parallel-emulator"))
        .args(["--token", "bin-token", "--seed-app", "demo"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("piped stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(4)
        .collect::<Result<_, _>>()
        .expect("four lines");

    let url = lines[0]
        .strip_prefix("export PARALLEL_SERVICE_API_URL=")
        .expect("url line");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(lines[1], "export PARALLEL_ACCESS_TOKEN=bin-token");
    assert_eq!(lines[2], format!("export PARALLEL_PLATFORM_URL={url}"));
    let app_id = lines[3]
        .strip_prefix("export PARALLEL_APP_ID=")
        .expect("app line");

    let client = reqwest::Client::new();
    let apps: Value = client
        .get(format!("{url}/service/v1/apps"))
        .bearer_auth("bin-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(apps["apps"][0]["app_id"], app_id);
    assert_eq!(apps["apps"][0]["app_name"], "demo");

    let created: Value = client
        .post(format!("{url}/service/v1/apps/{app_id}/keys"))
        .bearer_auth("bin-token")
        .json(&json!({"api_key_name": "from-binary"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Value = client
        .get(format!("{url}/_emulator/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys[0]["api_key_id"], created["api_key_id"]);

    let pid = running.0.id().to_string();
    let signalled = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let status =
        wait_for_exit(&mut running.0, Duration::from_secs(5)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_arguments_exit_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_parallel-emulator"))
        .args(["--port", "not-a-port"])
        .output()
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
}

#[test]
fn saves_a_cli_login_for_a_home_and_prints_the_platform_url() {
    let home = tempfile::tempdir().expect("home");
    let child = Command::new(env!("CARGO_BIN_EXE_parallel-emulator"))
        .arg("--cli-login-home")
        .arg(home.path())
        .args(["--token-lifetime-s", "7"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("piped stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(4)
        .collect::<Result<_, _>>()
        .expect("four lines");
    let url = lines[0]
        .strip_prefix("export PARALLEL_SERVICE_API_URL=")
        .expect("url");
    assert_eq!(lines[2], format!("export PARALLEL_PLATFORM_URL={url}"));

    use std::os::unix::fs::PermissionsExt;
    let path = parallel_emulator::auth_file_in(home.path());
    let mode = std::fs::metadata(&path)
        .expect("auth.json")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let file: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let org = file["selected_org_id"].as_str().expect("selected org");
    let control = &file["orgs"][org]["control_api"];
    assert!(control["access_token"].is_string() && control["refresh_token"].is_string());
    assert!(file["client_id"].is_string());
}
