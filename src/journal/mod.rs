//! The write-ahead journal: one small local file that records every
//! operation with an effect outside Terraform *before* its request is
//! sent, and its outcome after. When Terraform is killed, or skips a step
//! (an ephemeral close, a state write), the journal still knows what was
//! sent, and the next configure on this machine reads it and acts: names
//! the keys and charges whose outcome never reached Terraform, revokes
//! ephemeral keys nobody will close (see `report`).
//!
//! The file is JSON lines, mode 0600, never holding a secret, at
//! `$PARALLEL_RECOVERY_FILE`, else
//! `$XDG_STATE_HOME/terraform-provider-parallel/journal.jsonl`, else
//! `~/.local/state/terraform-provider-parallel/journal.jsonl`.
//!
//! Several provider processes write it at once (one `terraform apply`
//! starts several, and other runs may share the machine). Every write
//! takes `flock(2)` on the file, appends whole lines, and lets go; a
//! compaction rewrites it beside and renames it over, so a writer that
//! opened the old file notices (its inode is no longer the path's) and
//! opens again. A line torn by a process killed mid-write is skipped when
//! reading and never glued to the next record.

pub mod claim;
mod entry;
mod operation;
mod process;
pub mod report;

pub use entry::{Entry, Event, new_op, rfc3339_now, working_directory};
pub use operation::Operation;
pub use process::ProcessId;

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::{DirBuilderExt, FileExt as _, MetadataExt as _, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

/// Overrides where the journal is (tests, or a shared machine).
pub const ENV_JOURNAL_FILE: &str = "PARALLEL_RECOVERY_FILE";
const DIRECTORY: &str = "terraform-provider-parallel";
const FILE_NAME: &str = "journal.jsonl";
/// Compaction keeps the file to the operations still open, a few lines;
/// more than this is not a journal this provider wrote.
const MAX_READ_BYTES: u64 = 16 << 20;

/// Where the journal is, from the environment (`var` reads one variable);
/// `None` when neither the override, XDG_STATE_HOME nor HOME is set.
pub fn location(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    if let Some(file) = set(ENV_JOURNAL_FILE) {
        return Some(PathBuf::from(file));
    }
    // The XDG spec ignores a relative XDG_STATE_HOME.
    let state_home = set("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| set("HOME").map(|home| Path::new(&home).join(".local/state")))?;
    Some(state_home.join(DIRECTORY).join(FILE_NAME))
}

/// The journal file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    path: PathBuf,
}

/// What a read found.
#[derive(Debug, Default)]
pub struct Contents {
    pub entries: Vec<Entry>,
    /// Lines that are not JSON (torn by a kill, or edited by hand).
    pub unreadable: usize,
    /// JSON lines that are no entry this version knows (a newer provider's
    /// sharing the journal): kept as they are by a compaction, for the
    /// version that wrote them to report.
    pub foreign: Vec<String>,
    /// The file was larger than is read: a compaction would lose the rest.
    pub truncated: bool,
}

impl Journal {
    pub fn at(path: impl Into<PathBuf>) -> Journal {
        Journal { path: path.into() }
    }

    /// The journal of this environment (see [`location`]).
    pub fn from_env() -> Option<Journal> {
        location(|name| std::env::var(name).ok()).map(Journal::at)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry. Blocking, but briefly: holders of the lock only
    /// append a line or rewrite a file of a few lines.
    pub fn append(&self, entry: &Entry) -> std::io::Result<()> {
        let line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        append_line(&mut self.open_locked()?, line)
    }

    /// Appends `entry` when `allowed` says so of what the journal holds,
    /// reading and writing under one lock: of several writers deciding at
    /// once, each sees what the others appended. Whether it was appended.
    pub fn append_if(
        &self,
        entry: &Entry,
        allowed: impl FnOnce(&Contents) -> bool,
    ) -> std::io::Result<bool> {
        let line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        let mut file = self.open_locked()?;
        if !allowed(&read_contents(&mut file)?) {
            return Ok(false);
        }
        append_line(&mut file, line)?;
        Ok(true)
    }

    /// Every entry, without taking the lock (a line being appended meanwhile
    /// reads as torn and is skipped). No file reads as empty.
    pub fn read(&self) -> std::io::Result<Contents> {
        match File::open(&self.path) {
            Ok(mut file) => read_contents(&mut file),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Contents::default()),
            Err(err) => Err(err),
        }
    }

    /// Reads under the lock and lets `decide` say which entries to keep;
    /// when that drops any, the file is rewritten with just those (beside,
    /// then renamed over). Whatever `decide` returns besides is handed back.
    pub fn compact<R>(
        &self,
        decide: impl FnOnce(Contents) -> (Vec<Entry>, R),
    ) -> std::io::Result<R> {
        let mut file = self.open_locked()?;
        let contents = read_contents(&mut file)?;
        let before = contents.entries.len() + contents.unreadable;
        let (foreign, truncated) = (contents.foreign.clone(), contents.truncated);
        let (keep, result) = decide(contents);
        // What `decide` found is handed back even when the rewrite fails:
        // said twice (the next compaction finds it again) beats not said.
        if keep.len() < before
            && !truncated
            && let Err(err) = self.rewrite(&keep, &foreign)
        {
            tracing::warn!(path = %self.path.display(), "cannot compact the journal: {err}");
        }
        // The lock is released when `file` closes, after the rename.
        drop(file);
        Ok(result)
    }

    fn rewrite(&self, keep: &[Entry], foreign: &[String]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".journal-")
            .tempfile_in(dir)?;
        for entry in keep {
            let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
            line.push('\n');
            temp.write_all(line.as_bytes())?;
        }
        for line in foreign {
            temp.write_all(line.as_bytes())?;
            temp.write_all(b"\n")?;
        }
        // tempfile makes it 0600 already.
        temp.persist(&self.path).map_err(|err| err.error)?;
        Ok(())
    }

    /// Opens the journal for appending with the exclusive lock held, on
    /// the file that is at the path now (not one a compaction replaced
    /// while this waited for the lock).
    fn open_locked(&self) -> std::io::Result<File> {
        use std::os::unix::fs::PermissionsExt;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        loop {
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.path)?;
            lock_within(&file, LOCK_WAIT)?;
            let locked = file.metadata()?;
            let current = fs::metadata(&self.path);
            if current.is_ok_and(|now| now.ino() == locked.ino() && now.dev() == locked.dev()) {
                // A file made earlier by someone else's umask or hand.
                if locked.permissions().mode() & 0o777 != 0o600 {
                    file.set_permissions(fs::Permissions::from_mode(0o600))?;
                }
                return Ok(file);
            }
        }
    }
}

/// How long a write waits for the journal's lock. Its holders keep it for
/// one append or one compaction; a holder stopped (Ctrl-Z) or hung must not
/// stall every provider on the machine, and the journal is best effort.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Takes the exclusive lock, polling so that the wait has a bound.
fn lock_within(file: &File, wait: std::time::Duration) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(err) if err == rustix::io::Errno::WOULDBLOCK && started.elapsed() < wait => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(err) if err == rustix::io::Errno::WOULDBLOCK => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("another process held the journal's lock for {wait:?}"),
                ));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Appends one line to a journal opened for appending, its lock held.
fn append_line(file: &mut File, mut line: String) -> std::io::Result<()> {
    line.push('\n');
    // A line torn by a writer killed mid-write stays on its own line.
    let len = file.metadata()?.len();
    let mut last = [0u8; 1];
    if len > 0 && file.read_at(&mut last, len - 1)? == 1 && last[0] != b'\n' {
        line.insert(0, '\n');
    }
    // One write per line, on a file opened for appending.
    file.write_all(line.as_bytes())
}

fn read_contents(file: &mut File) -> std::io::Result<Contents> {
    file.rewind()?;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut contents = Contents {
        truncated: bytes.len() as u64 >= MAX_READ_BYTES,
        ..Contents::default()
    };
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        match serde_json::from_str::<Entry>(line) {
            Ok(entry) => contents.entries.push(entry),
            Err(_)
                if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line)
                    .is_ok() =>
            {
                contents.foreign.push(line.to_owned());
            }
            Err(_) => contents.unreadable += 1,
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests;
