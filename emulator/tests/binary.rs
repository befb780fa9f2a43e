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

/// Runs the binary with `args`, expecting it to exit at once; returns its
/// exit code and stderr.
fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parallel-emulator"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let status = wait_for_exit(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("parallel-emulator {args:?} kept running; stderr: {stderr}");
    };
    (status.code(), stderr)
}

#[test]
fn bad_arguments_exit_with_usage() {
    for (args, says) in [
        (
            &["--port", "not-a-port"][..],
            "\"not-a-port\" is not a port number",
        ),
        (
            &["--port=70000"][..],
            "\"70000\" is not a port number (0 to 65535",
        ),
        (&["--prot", "8080"][..], "unknown argument \"--prot\""),
        (&["--seed-app"][..], "--seed-app needs a value"),
    ] {
        let (code, stderr) = run_to_exit(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stderr.contains("usage:"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_port_in_use_is_named_and_fails() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("take a port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let (code, stderr) = run_to_exit(&["--port", &port]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}"))
            && stderr.contains("choose another --port"),
        "{stderr}"
    );
    drop(taken);
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
