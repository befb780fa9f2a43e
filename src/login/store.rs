//! The saved login on disk: finding it, reading it, locking it, and
//! replacing it without ever leaving a half-written file.
//!
//! The lock is `flock(2)` on a separate file beside it (`auth.json.lock`),
//! never on `auth.json` itself: `auth.json` is replaced by a rename, and a
//! lock on a file that has been renamed over protects nothing. The lock
//! file is never deleted, for the same reason. `rustix` (already in the
//! tree, through `tempfile`) gives `flock` without `unsafe`; `fs4` and
//! `fd-lock` are thin layers over the same call.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::{FlockOperation, flock};
use tokio_util::sync::CancellationToken;

/// A login file is a few KiB; anything much larger is not one.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// How long to wait for another process to finish refreshing: a refresh is
/// one request, bounded by its timeout and at most two retries.
pub const LOCK_WAIT: Duration = Duration::from_secs(180);
const LOCK_POLL: Duration = Duration::from_millis(25);

/// Where the Parallel CLI keeps its login: `~/.config/parallel-web-tools/
/// auth.json` (the CLI uses the home directory, not `XDG_CONFIG_HOME`).
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| {
            PathBuf::from(home)
                .join(".config")
                .join("parallel-web-tools")
                .join("auth.json")
        })
}

/// A file read from disk.
pub struct Read {
    pub bytes: Vec<u8>,
    /// The permission bits, when group or others may read or write it.
    pub too_open: Option<u32>,
}

/// Reads `path`; `Ok(None)` when there is no such file.
pub fn read(path: &Path) -> std::io::Result<Option<Read>> {
    use std::io::Read as _;
    use std::os::unix::fs::PermissionsExt;
    // Look before opening: opening a FIFO blocks until someone writes to it.
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A link whose file is gone is not "no login": someone put it
            // there, and where it points is what they need to see.
            return match std::fs::read_link(path) {
                Ok(target) => Err(std::io::Error::other(format!(
                    "it is a symbolic link to {}, which does not exist",
                    target.display()
                ))),
                Err(_) => Ok(None),
            };
        }
        Err(e) => return Err(e),
    };
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "it is larger than {} KiB, so not a login",
            MAX_FILE_BYTES / 1024
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    let mode = metadata.permissions().mode() & 0o777;
    Ok(Some(Read {
        bytes,
        too_open: (mode & 0o077 != 0).then_some(mode),
    }))
}

/// The lock file of `path`: `auth.json.lock` beside `auth.json`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Held while a process refreshes; released when dropped (closing the file
/// releases the `flock`, also when the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    Io(std::io::Error),
    /// Someone held it for all of [`LOCK_WAIT`].
    Busy,
    Cancelled,
}

/// Takes the exclusive lock beside `path`, waiting for whoever holds it.
/// Polling with a non-blocking `flock` keeps the wait cancellable and off
/// tokio's worker threads.
pub async fn lock(path: &Path, cancel: &CancellationToken) -> Result<Lock, LockError> {
    use std::os::unix::fs::OpenOptionsExt;
    let lock_path = lock_path(path);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
    {
        Ok(file) => file,
        // A read-only directory may still hold the lock file of an earlier
        // run, and `flock` works on a file open for reading: processes
        // still take turns (the save then fails, visibly).
        Err(error) => std::fs::File::open(&lock_path).map_err(|_| LockError::Io(error))?,
    };
    let mut waited = Duration::ZERO;
    loop {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(Lock { _file: file }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {}
            Err(e) => return Err(LockError::Io(e.into())),
        }
        if waited >= LOCK_WAIT {
            return Err(LockError::Busy);
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(LockError::Cancelled),
            () = tokio::time::sleep(LOCK_POLL) => {}
        }
        waited += LOCK_POLL;
    }
}

/// Replaces `path` with `bytes`: a temporary file in the same directory
/// (so the rename cannot cross file systems), mode 0600, written and
/// fsynced, renamed over `path`, then the directory fsynced so the rename
/// itself survives a crash. Readers see the old file or the new one, never
/// a mix. A symbolic link is followed, so a linked file stays linked.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".auth.")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(&target).map_err(|e| e.error)?;
    // Not every file system can fsync a directory; the file is in place.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replacing_keeps_mode_0600_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        replace(&path, b"{\"new\": true}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"new\": true}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("auth.json")]);
    }

    #[test]
    fn a_linked_file_is_replaced_through_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("auth.json");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn reading_reports_absence_permissions_and_non_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        assert!(read(&path).unwrap().is_none());
        std::fs::write(&path, b"{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(read(&path).unwrap().unwrap().too_open, Some(0o640));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read(&path).unwrap().unwrap().too_open, None);
        let err = read(dir.path()).err().unwrap().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_dangling_link_names_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("auth.json");
        let gone = dir.path().join("moved-away.json");
        std::os::unix::fs::symlink(&gone, &link).unwrap();
        let err = read(&link).err().unwrap().to_string();
        assert!(
            err.contains(&format!("symbolic link to {}", gone.display())),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        let cancel = CancellationToken::new();
        let held = lock(&path, &cancel).await.unwrap();
        assert!(lock_path(&path).ends_with("auth.json.lock"));
        // A second open file description cannot take it meanwhile.
        let other = std::fs::File::open(lock_path(&path)).unwrap();
        assert!(flock(&other, FlockOperation::NonBlockingLockExclusive).is_err());
        let waiting = {
            let cancel = cancel.clone();
            let path = path.clone();
            tokio::spawn(async move { lock(&path, &cancel).await.map(drop) })
        };
        drop(held);
        waiting.await.unwrap().unwrap();
        let cancelled = CancellationToken::new();
        let _again = lock(&path, &cancel).await.unwrap();
        cancelled.cancel();
        assert!(matches!(
            lock(&path, &cancelled).await,
            Err(LockError::Cancelled)
        ));
    }
}
