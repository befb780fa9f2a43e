//! `parallel-emulator [--port N] [--token T] [--latency-ms N] [--seed-app NAME]
//!  [--token-lifetime-s N] [--cli-login-home DIR]`
//!
//! Seeds one app, prints the environment variables a client needs as
//! `export NAME=value` lines (so a shell can `eval` or `source` them: the
//! API's URL, its token, the platform's URL for the token endpoint, and
//! last the app's ID), then serves until SIGINT or SIGTERM.
//! `--cli-login-home DIR` first saves a `parallel-cli login` in
//! `DIR/.config/parallel-web-tools/auth.json`; `--token-lifetime-s` sets how
//! long the access tokens issued by refreshing it live.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use parallel_emulator::{Emulator, LoginSpec, Options};

const USAGE: &str = "usage: parallel-emulator [--port N] [--token T] [--latency-ms N] \
     [--seed-app NAME] [--token-lifetime-s N] [--cli-login-home DIR]";

#[derive(Debug, PartialEq)]
struct Args {
    port: u16,
    token: Option<String>,
    latency_ms: u64,
    seed_app: String,
    token_lifetime_s: u64,
    cli_login_home: Option<String>,
}

#[derive(Debug, PartialEq, thiserror::Error)]
enum ArgsError {
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("invalid value for {flag}: {value:?}")]
    InvalidValue { flag: String, value: String },
    #[error(
        "invalid value for --port: {0:?} is not a port number (0 to 65535; 0 picks a free port)"
    )]
    InvalidPort(String),
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("help requested")]
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, ArgsError> {
    let mut parsed = Args {
        port: 0,
        token: None,
        latency_ms: 0,
        seed_app: "quickstart".to_owned(),
        token_lifetime_s: 3600,
        cli_login_home: None,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(ArgsError::Help);
        }
        let (name, inline_value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (flag.clone(), None),
        };
        if !matches!(
            name.as_str(),
            "--port"
                | "--token"
                | "--latency-ms"
                | "--seed-app"
                | "--token-lifetime-s"
                | "--cli-login-home"
        ) {
            return Err(ArgsError::Unknown(flag));
        }
        let value = inline_value
            .or_else(|| args.next())
            .ok_or_else(|| ArgsError::MissingValue(name.clone()))?;
        let invalid = || ArgsError::InvalidValue {
            flag: name.clone(),
            value: value.clone(),
        };
        match name.as_str() {
            "--port" => parsed.port = value.parse().map_err(|_| ArgsError::InvalidPort(value))?,
            "--latency-ms" => parsed.latency_ms = value.parse().map_err(|_| invalid())?,
            // The token is deliberately left out of the error text.
            "--token" if value.is_empty() => {
                return Err(ArgsError::MissingValue(name));
            }
            "--token" => parsed.token = Some(value),
            "--token-lifetime-s" => {
                parsed.token_lifetime_s = value.parse().map_err(|_| invalid())?;
            }
            "--cli-login-home" => parsed.cli_login_home = Some(value),
            _ => parsed.seed_app = value,
        }
    }
    Ok(parsed)
}

fn print_environment(emulator: &Emulator, app_id: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "export PARALLEL_SERVICE_API_URL={}",
        emulator.base_url()
    )?;
    writeln!(
        stdout,
        "export PARALLEL_ACCESS_TOKEN={}",
        shell_word(&emulator.token())
    )?;
    writeln!(
        stdout,
        "export PARALLEL_PLATFORM_URL={}",
        emulator.base_url()
    )?;
    // Last, so a reader waiting for it has every line.
    writeln!(stdout, "export PARALLEL_APP_ID={app_id}")?;
    stdout.flush()
}

/// `value` as one shell word: as it is when it is plain (the generated
/// token, a URL, a UUID), else single-quoted (a `--token` of the caller's).
fn shell_word(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:/@%+=,".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The handlers are installed before anything is printed: a supervisor may
/// signal as soon as it has read the three lines. SIGINT or SIGTERM on
/// Unix; Ctrl-C or Ctrl-Break on Windows, which has no SIGTERM (the release
/// ships a Windows build too).
#[cfg(unix)]
struct TerminationSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl TerminationSignals {
    fn install(runtime: &tokio::runtime::Runtime) -> std::io::Result<TerminationSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        let _context = runtime.enter();
        Ok(TerminationSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(windows)]
struct TerminationSignals {
    ctrl_c: tokio::signal::windows::CtrlC,
    ctrl_break: tokio::signal::windows::CtrlBreak,
}

#[cfg(windows)]
impl TerminationSignals {
    fn install(runtime: &tokio::runtime::Runtime) -> std::io::Result<TerminationSignals> {
        let _context = runtime.enter();
        Ok(TerminationSignals {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
            ctrl_break: tokio::signal::windows::ctrl_break()?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.ctrl_c.recv() => {}
            _ = self.ctrl_break.recv() => {}
        }
    }
}

/// What went wrong when listening on `port`, and what to do about it.
fn cannot_listen(port: u16, error: std::io::Error) -> std::io::Error {
    let advice = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another process is listening on it; choose another --port, or leave --port out to get a free one"
        }
        std::io::ErrorKind::PermissionDenied => {
            "this user may not listen on it (ports below 1024 usually need privileges); choose a port above 1023, or leave --port out"
        }
        _ => "choose another --port, or leave --port out to get a free one",
    };
    std::io::Error::new(
        error.kind(),
        format!("cannot listen on 127.0.0.1:{port}: {error}; {advice}"),
    )
}

fn run(args: Args) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signals = TerminationSignals::install(&runtime)?;
    let options = Options {
        port: args.port,
        token: args.token,
        latency: Duration::from_millis(args.latency_ms),
        access_token_lifetime: Duration::from_secs(args.token_lifetime_s),
        ..Options::default()
    };
    let emulator =
        Emulator::start_with(options).map_err(|error| cannot_listen(args.port, error))?;
    if let Some(home) = &args.cli_login_home {
        // The saved access token lives as long as the ones refreshing issues.
        let spec = LoginSpec {
            access_token_expires_in: i64::try_from(args.token_lifetime_s).unwrap_or(i64::MAX),
            ..LoginSpec::default()
        };
        emulator.write_cli_login(std::path::Path::new(home), &spec)?;
    }
    let app = emulator.create_app(&args.seed_app);
    print_environment(&emulator, &app.app_id.to_string())?;
    runtime.block_on(signals.wait());
    drop(emulator);
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("parallel-emulator: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parallel-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, ArgsError> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!(
            args,
            Args {
                port: 0,
                token: None,
                latency_ms: 0,
                seed_app: "quickstart".into(),
                token_lifetime_s: 3600,
                cli_login_home: None,
            }
        );
    }

    #[test]
    fn all_flags_in_both_spellings() {
        let args = parse(&[
            "--port",
            "8080",
            "--token=t",
            "--latency-ms",
            "50",
            "--seed-app=demo",
            "--token-lifetime-s",
            "3",
            "--cli-login-home=/h",
        ])
        .unwrap();
        assert_eq!(
            args,
            Args {
                port: 8080,
                token: Some("t".into()),
                latency_ms: 50,
                seed_app: "demo".into(),
                token_lifetime_s: 3,
                cli_login_home: Some("/h".into()),
            }
        );
    }

    #[test]
    fn printed_values_paste_into_a_shell() {
        assert_eq!(shell_word("emu-Ab12"), "emu-Ab12");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn errors_are_reported() {
        assert_eq!(
            parse(&["--port"]),
            Err(ArgsError::MissingValue("--port".into()))
        );
        assert_eq!(
            parse(&["--port", "x"]),
            Err(ArgsError::InvalidPort("x".into()))
        );
        assert_eq!(
            parse(&["--port=65536"]),
            Err(ArgsError::InvalidPort("65536".into()))
        );
        assert!(matches!(
            parse(&["--latency-ms", "-1"]),
            Err(ArgsError::InvalidValue { .. })
        ));
        assert_eq!(parse(&["--nope"]), Err(ArgsError::Unknown("--nope".into())));
        assert_eq!(
            parse(&["--token="]),
            Err(ArgsError::MissingValue("--token".into()))
        );
        assert_eq!(parse(&["-h"]), Err(ArgsError::Help));
    }
}
