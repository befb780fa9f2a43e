//! Child processes that cannot outlive the benchmark: every run is bounded
//! in time, interruptible, and killed with everything it started.

use std::os::unix::process::{CommandExt, ExitStatusExt};
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
    /// CPU of the process and of the children it waited for (for
    /// Terraform: the providers), when the kernel could tell.
    pub cpu: Option<CpuTimes>,
    /// Peak RSS in KiB (ru_maxrss) of the process, which the kernel reports
    /// as the larger of its own peak and its waited-for children's: for
    /// Terraform that is Terraform's own, its providers being far smaller.
    pub peak_rss_kib: Option<u64>,
}

/// User + system CPU, from the exited process's /proc entry.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    /// The process itself, all its threads.
    pub own: Duration,
    /// Its children that it waited for.
    pub children: Duration,
}

/// Waits until `pid` (our child) has exited without reaping it, so its
/// /proc entry still holds its CPU times; the caller reaps it afterwards.
fn cpu_at_exit(pid: u32) -> Option<CpuTimes> {
    let id = libc::id_t::try_from(pid).ok()?;
    loop {
        // SAFETY: siginfo_t is plain data, so all-zero is a valid value;
        // waitid writes at most one through the pointer we own.
        let code = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        if code == 0 {
            break;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return None;
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu(&stat, clock_ticks()?)
}

/// Reaps our exited (or exiting) child with wait4, which also hands back
/// its resource usage: the exit status and ru_maxrss in KiB. Falls back to
/// `Child::wait` (no peak) if the pid does not fit wait4's type.
fn reap(child: &mut Child) -> std::io::Result<(ExitStatus, Option<u64>)> {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return child.wait().map(|status| (status, None));
    };
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain integers, so all-zero is a valid value;
        // wait4 writes one status and one rusage through pointers we own.
        let (code, usage) = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            let code = libc::wait4(pid, &mut status, 0, &mut usage);
            (code, usage)
        };
        if code == pid {
            // Kilobytes on Linux.
            let peak = u64::try_from(usage.ru_maxrss).ok().filter(|kib| *kib > 0);
            return Ok((ExitStatus::from_raw(status), peak));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// User + system CPU of a live process so far (its own threads).
pub fn cpu_so_far(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu(&stat, clock_ticks()?).map(|cpu| cpu.own)
}

fn clock_ticks() -> Option<f64> {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then_some(ticks as f64)
}

/// utime, stime, cutime and cstime are fields 14 to 17 of /proc/PID/stat;
/// the command name (field 2) may hold spaces, so count from its `)`.
fn parse_cpu(stat: &str, ticks_per_second: f64) -> Option<CpuTimes> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse::<f64>().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = fields[..] else {
        return None;
    };
    let seconds = |ticks: f64| Duration::from_secs_f64(ticks / ticks_per_second);
    Some(CpuTimes {
        own: seconds(utime + stime),
        children: seconds(cutime + cstime),
    })
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
        let cpu = cpu_at_exit(child.id());
        let ended = Instant::now();
        let reaped = reap(&mut child);
        let _ = sender.send((reaped, ended, cpu));
    });
    let outcome = loop {
        match receiver.recv_timeout(POLL) {
            Ok((reaped, ended, cpu)) => {
                let (status, peak_rss_kib) = reaped.context(|| format!("waiting for {label}"))?;
                break Ok(Finished {
                    started,
                    elapsed: ended.saturating_duration_since(started),
                    status,
                    cpu,
                    peak_rss_kib,
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

    pub fn id(&self) -> u32 {
        self.child.id()
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
    fn cpu_times_of_an_exited_child() {
        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; true",
        ]);
        let finished = run_bounded("sh", &mut sh, Duration::from_secs(60)).expect("sh runs");
        assert!(finished.status.success());
        assert!(finished.cpu.is_some());
        assert!(finished.peak_rss_kib.is_some_and(|kib| kib > 0));
    }

    #[test]
    fn the_exit_code_survives_wait4() {
        let mut sh = Command::new("sh");
        sh.args(["-c", "exit 3"]);
        let finished = run_bounded("sh", &mut sh, Duration::from_secs(60)).expect("sh runs");
        assert_eq!(finished.status.code(), Some(3));
    }

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        let stat = "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 30 20 0 0";
        let cpu = parse_cpu(stat, 100.0).expect("parses");
        assert_eq!(cpu.own, Duration::from_secs(2));
        assert_eq!(cpu.children, Duration::from_millis(500));
        assert!(parse_cpu("42 (x) S 1", 100.0).is_none());
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
