//! Which process wrote an entry, and whether it is still running: an
//! operation of a live process may still finish (another `terraform apply`
//! on this machine), one of a dead process never will.

use serde::{Deserialize, Serialize};

/// A process, told apart from a later one that reuses its PID by its start
/// time (Linux: clock ticks after boot, from `/proc/<pid>/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<u64>,
}

impl ProcessId {
    pub fn current() -> ProcessId {
        let pid = std::process::id();
        ProcessId {
            pid,
            started: match proc_stat(pid) {
                Stat::Read(stat) => stat.started,
                Stat::Gone | Stat::Unreadable => None,
            },
        }
    }

    /// Whether this process has ended (a zombie has: it only waits to be
    /// reaped). When nothing can be learnt, it is taken as running, so that
    /// nothing is done to the operations of a live process.
    pub fn has_ended(&self) -> bool {
        if std::path::Path::new("/proc/self/stat").exists() {
            return match proc_stat(self.pid) {
                Stat::Gone => true,
                // hidepid, another PID namespace, a format not understood:
                // nothing learnt, so taken as running.
                Stat::Unreadable => false,
                Stat::Read(stat) => {
                    stat.zombie
                        || matches!((self.started, stat.started), (Some(a), Some(b)) if a != b)
                }
            };
        }
        let Some(pid) = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return true;
        };
        // ESRCH: no such process. EPERM: it exists, owned by someone else.
        matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
    }
}

struct ProcStat {
    zombie: bool,
    started: Option<u64>,
}

/// What `/proc/<pid>/stat` tells: only a missing entry means the process
/// is gone.
enum Stat {
    Gone,
    Unreadable,
    Read(ProcStat),
}

/// `/proc/<pid>/stat`: the fields after the parenthesised command name
/// (which may hold spaces) are the state, then 18 more, then the start time.
fn proc_stat(pid: u32) -> Stat {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Stat::Gone,
        Err(_) => Stat::Unreadable,
        Ok(stat) => parse_stat(&stat).map_or(Stat::Unreadable, Stat::Read),
    }
}

fn parse_stat(stat: &str) -> Option<ProcStat> {
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?;
    Some(ProcStat {
        zombie: matches!(state, "Z" | "X"),
        started: fields.nth(18).and_then(|field| field.parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_a_finished_child_has_ended() {
        assert!(!ProcessId::current().has_ended());
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(ProcessId { pid, started: None }.has_ended());
    }

    #[test]
    fn a_stat_line_not_understood_tells_nothing() {
        assert!(parse_stat("garbage").is_none());
        let stat =
            parse_stat("1 (a b) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4242 0").expect("read");
        assert!(!stat.zombie);
        assert_eq!(stat.started, Some(4242));
    }

    #[test]
    fn a_reused_pid_is_another_process() {
        let mut me = ProcessId::current();
        if let Some(started) = me.started {
            me.started = Some(started + 1);
            assert!(me.has_ended());
        }
    }
}
