//! Child processes that cannot outlive the benchmark: every run is bounded
//! in time, interruptible, and killed with everything it started.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::error::{BenchError, IoContext, Result};
use crate::interrupt;

/// How often a wait looks at the interrupt flag and the deadline.
const POLL: Duration = Duration::from_millis(50);
/// How long a process gets after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// Makes the kernel kill the child when this process dies, even by SIGKILL,
/// so no emulator or Terraform is ever left behind.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed; it makes one prctl system call
    // and touches no memory shared with the parent. (The signal is tied to
    // the forking thread: every spawn here happens on the main thread.)
    unsafe {
        command.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
                .map_err(std::io::Error::from)
        });
    }
}

fn pid_of(child: &Child) -> Option<Pid> {
    i32::try_from(child.id()).ok().and_then(Pid::from_raw)
}

/// A finished run.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// Just before spawning, on the benchmark's clock.
    pub started: Instant,
    /// From just before spawning until `wait` returned.
    pub elapsed: Duration,
    pub status: ExitStatus,
}

/// Runs `command` in a process group of its own and waits for it, at most
/// `timeout`. On timeout or interrupt the whole group (Terraform and the
/// providers it launched) is killed. The caller chooses stdio.
pub fn run_bounded(label: &str, command: &mut Command, timeout: Duration) -> Result<Finished> {
    interrupt::check()?;
    command.process_group(0);
    die_with_parent(command);
    let started = Instant::now();
    let mut child = command.spawn().context(|| format!("starting {label}"))?;
    let group = pid_of(&child);
    // A thread blocked in wait() sees the exit at once; polling try_wait
    // would add up to one poll interval to every measurement.
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let status = child.wait();
        let _ = sender.send((status, Instant::now()));
    });
    let outcome = loop {
        match receiver.recv_timeout(POLL) {
            Ok((status, ended)) => {
                let status = status.context(|| format!("waiting for {label}"))?;
                break Ok(Finished {
                    started,
                    elapsed: ended.saturating_duration_since(started),
                    status,
                });
            }
            Err(RecvTimeoutError::Disconnected) => {
                break Err(BenchError::Unexpected(format!("lost track of {label}")));
            }
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::requested() {
                    break Err(BenchError::Interrupted);
                }
                if started.elapsed() > timeout {
                    break Err(BenchError::Timeout {
                        label: label.to_owned(),
                        after: timeout,
                    });
                }
            }
        }
    };
    // Also after a normal exit: a provider that Terraform failed to stop
    // must not linger and skew the next run.
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, Signal::KILL);
    }
    if outcome.is_err() {
        // Reap the child so it does not stay a zombie; bounded, since
        // SIGKILL cannot be ignored.
        let _ = receiver.recv_timeout(TERM_GRACE);
    }
    outcome
}

/// A long-running child (the emulator) stopped with SIGTERM, then SIGKILL,
/// when dropped.
#[derive(Debug)]
pub struct Guarded {
    child: Child,
}

impl Guarded {
    pub fn spawn(label: &'static str, command: &mut Command) -> Result<Guarded> {
        die_with_parent(command);
        let child = command.spawn().context(|| format!("starting {label}"))?;
        Ok(Guarded { child })
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// `Some(status)` once the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        if let Some(pid) = pid_of(&self.child) {
            let _ = rustix::process::kill_process(pid, Signal::TERM);
        }
        let deadline = Instant::now() + TERM_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_command_is_timed() {
        let finished = run_bounded("true", &mut Command::new("true"), Duration::from_secs(10))
            .expect("true runs");
        assert!(finished.status.success());
        assert!(finished.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn a_slow_command_is_killed_at_its_deadline() {
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let began = Instant::now();
        let result = run_bounded("sleep", &mut sleep, Duration::from_millis(200));
        assert!(matches!(result, Err(BenchError::Timeout { .. })));
        assert!(began.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_guarded_child_is_stopped_on_drop() {
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let guarded = Guarded::spawn("sleep", &mut sleep).expect("sleep starts");
        let pid = guarded.child.id();
        drop(guarded);
        // The process is reaped, so its /proc entry is gone.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }
}
