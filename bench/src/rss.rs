//! Peak memory of the provider as Terraform runs it. Terraform launches
//! `parallel-bench rss-wrap <out-dir> <provider> [args]` in place of the
//! provider; the wrapper runs the provider with the same stdio and
//! environment, waits, and asks the kernel for its child's peak RSS, which,
//! unlike polling /proc, cannot miss a short spike before exit.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};

use crate::error::{BenchError, IoContext, Result};
use crate::process::die_with_parent;

/// The wrapper's whole life. Its arguments come from the script the
/// harness wrote, so a mistake here is ours, reported on stderr (which
/// Terraform shows).
pub fn wrap(args: Vec<OsString>) -> ExitCode {
    match run_wrapped(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("parallel-bench rss-wrap: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_wrapped(args: Vec<OsString>) -> Result<ExitCode> {
    let mut args = args.into_iter();
    let (Some(out_dir), Some(program)) = (args.next(), args.next()) else {
        return Err(BenchError::Usage(
            "rss-wrap <out-dir> <program> [args...]".into(),
        ));
    };
    // The provider ignores SIGINT (Terraform relays Ctrl-C as StopProvider);
    // so must we, or a Ctrl-C would take the provider down with us.
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, ignored)
        .context(|| "ignoring SIGINT".to_owned())?;

    let mut command = Command::new(&program);
    command.args(args);
    die_with_parent(&mut command);
    let status = command
        .status()
        .context(|| format!("running {}", Path::new(&program).display()))?;
    if let Some(kib) = children_peak_rss_kib() {
        let file = Path::new(&out_dir).join(format!("{}.kib", std::process::id()));
        std::fs::write(&file, format!("{kib}\n"))
            .context(|| format!("writing {}", file.display()))?;
    }
    let code = status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1);
    Ok(ExitCode::from(code))
}

/// ru_maxrss of the waited-for children: the provider is our only child.
fn children_peak_rss_kib() -> Option<u64> {
    // SAFETY: rusage is plain integers, so all-zero is a valid value, and
    // getrusage writes at most one rusage through the pointer we own.
    let (code, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let code = libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        (code, usage)
    };
    if code != 0 {
        return None;
    }
    // Kilobytes on Linux.
    u64::try_from(usage.ru_maxrss).ok()
}

/// Peak RSS, in KiB, of every provider process the wrapper saw exit.
pub fn collected(out_dir: &Path) -> Result<Vec<u64>> {
    let mut peaks = Vec::new();
    let entries =
        std::fs::read_dir(out_dir).context(|| format!("listing {}", out_dir.display()))?;
    for entry in entries {
        let path = entry
            .context(|| format!("listing {}", out_dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "kib") {
            let text =
                std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
            if let Ok(kib) = text.trim().parse() {
                peaks.push(kib);
            }
        }
    }
    Ok(peaks)
}

/// Forgets earlier measurements before a new run.
pub fn clear(out_dir: &Path) -> Result<()> {
    for path in std::fs::read_dir(out_dir)
        .context(|| format!("listing {}", out_dir.display()))?
        .flatten()
        .map(|entry| entry.path())
    {
        if path.extension().is_some_and(|ext| ext == "kib") {
            std::fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_of_a_finished_child_is_measured() {
        let status = Command::new("true").status().expect("true runs");
        assert!(status.success());
        let kib = children_peak_rss_kib().expect("getrusage");
        assert!(kib > 0);
    }

    #[test]
    fn collected_reads_only_kib_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("1.kib"), "1234\n").expect("write");
        std::fs::write(dir.path().join("2.kib"), "garbage").expect("write");
        std::fs::write(dir.path().join("other.txt"), "99").expect("write");
        assert_eq!(collected(dir.path()).expect("read"), vec![1234]);
        clear(dir.path()).expect("clear");
        assert!(collected(dir.path()).expect("read").is_empty());
    }
}
