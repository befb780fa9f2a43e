//! Keys created while nobody was listening. When Terraform is killed during
//! an apply, a create already sent still runs to its answer (the protocol
//! layer sees to that), but the answer has nowhere to go: the key is live
//! and no state knows it. What identifies it (never the secret) goes to
//! stderr and to a recovery file; the next configure of the provider warns
//! once about each such key, with the command that revokes it.
//!
//! The file is JSON lines, one key each, mode 0600, at
//! `$PARALLEL_RECOVERY_FILE`, else
//! `$XDG_STATE_HOME/terraform-provider-parallel/lost-keys.jsonl`, else
//! `~/.local/state/terraform-provider-parallel/lost-keys.jsonl`. Reporting
//! renames it to `lost-keys.reported-<unix time>-<pid>.jsonl` beside it,
//! which is kept for the user's records: a rename has one winner, so the
//! several provider processes of one `terraform apply` warn only once.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tfplugin::{Diagnostic, Diagnostics};

use super::facts::KeyFacts;

/// Overrides where the recovery file is (tests, or a shared machine).
pub const ENV_RECOVERY_FILE: &str = "PARALLEL_RECOVERY_FILE";
const DIRECTORY: &str = "terraform-provider-parallel";
const FILE_NAME: &str = "lost-keys.jsonl";

/// One key in the recovery file. Built from [`KeyFacts`], which holds no
/// secret, so the secret cannot end up here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LostKey {
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub api_key_id: Option<String>,
    pub api_key_name: Option<String>,
    pub display_value: Option<String>,
    /// Unix seconds, as the API returned them.
    pub created_at: Option<f64>,
    /// Where a DELETE revokes the key.
    pub revoke_url: Option<String>,
    /// Terraform's working directory at the time, to find the configuration.
    pub working_directory: Option<String>,
    /// RFC 3339.
    pub recorded_at: Option<String>,
}

impl LostKey {
    pub fn new(key: &KeyFacts, revoke_url: Option<String>) -> LostKey {
        LostKey {
            app_id: key.app_id.clone(),
            app_name: key.app_name.clone(),
            api_key_id: key.id.clone(),
            api_key_name: key.name.clone(),
            display_value: key.display_value.clone(),
            created_at: key.created_at,
            revoke_url,
            working_directory: std::env::current_dir()
                .ok()
                .map(|dir| dir.display().to_string()),
            recorded_at: Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string()),
        }
    }

    fn facts(&self) -> KeyFacts {
        KeyFacts {
            name: self.api_key_name.clone(),
            id: self.api_key_id.clone(),
            app_id: self.app_id.clone(),
            app_name: self.app_name.clone(),
            display_value: self.display_value.clone(),
            created_at: self.created_at,
        }
    }

    /// How to revoke it: the Account API call when its URL is known, else
    /// the platform.
    fn how_to_revoke(&self) -> String {
        let platform = format!(
            "revoke it in the Parallel platform ({})",
            self.facts().finding_aid()
        );
        match &self.revoke_url {
            Some(url) => format!(
                "{platform}, or with the Account API: curl -X DELETE -H \"Authorization: \
                 Bearer $PARALLEL_ACCESS_TOKEN\" '{url}'"
            ),
            None => platform,
        }
    }
}

/// Where the recovery file is, from the environment (`var` reads one
/// variable); `None` when neither the override, XDG_STATE_HOME nor HOME
/// is set.
pub fn location(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    if let Some(file) = set(ENV_RECOVERY_FILE) {
        return Some(PathBuf::from(file));
    }
    // The XDG spec ignores a relative XDG_STATE_HOME.
    let state_home = set("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| set("HOME").map(|home| Path::new(&home).join(".local/state")))?;
    Some(state_home.join(DIRECTORY).join(FILE_NAME))
}

fn default_location() -> Option<PathBuf> {
    location(|name| std::env::var(name).ok())
}

/// Records a key whose create answer could not be handed to Terraform, on
/// stderr and in the recovery file. Never fails: this runs on the way to
/// the process's exit, with nobody to tell but stderr.
pub fn record(key: &KeyFacts, revoke_url: Option<String>) {
    let lost = LostKey::new(key, revoke_url);
    let file = default_location();
    let written = match &file {
        Some(path) => append(path, &lost)
            .map(|()| format!("recorded in {}", path.display()))
            .map_err(|err| format!("it could not be recorded in {}: {err}", path.display())),
        None => Err(format!(
            "it could not be recorded: set {ENV_RECOVERY_FILE} or HOME"
        )),
    };
    let note = written.unwrap_or_else(|err| err);
    tracing::error!(key = %key.label(), "created while Terraform was gone: {note}");
    // Not eprintln!, which panics when stderr's reader (Terraform) is gone.
    let _ = writeln!(
        std::io::stderr(),
        "terraform-provider-parallel: Terraform was gone when Parallel created {}; the key is \
         live and in no Terraform state ({note}). To remove it, {}.",
        key.label(),
        lost.how_to_revoke()
    );
}

fn append(path: &Path, lost: &LostKey) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut line = serde_json::to_string(lost).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    // A file made earlier by someone else's umask or hand.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    // One write per line: several provider processes may append at once.
    file.write_all(line.as_bytes())
}

/// The warnings for every key recorded since the last report, once: the
/// file is renamed aside first, so a second configure (another provider
/// process of the same run) finds nothing.
pub fn report() -> Diagnostics {
    match default_location() {
        Some(path) => report_from(&path),
        None => Diagnostics::new(),
    }
}

pub fn report_from(path: &Path) -> Diagnostics {
    let reported = reported_name(path);
    match fs::rename(path, &reported) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Diagnostics::new(),
        Err(err) => {
            return Diagnostic::warning(
                "Cannot read the provider's recovery file",
                format!(
                    "{} may list API keys that an earlier, killed Terraform run created and no \
                     state records, but it could not be claimed: {err}. Read it yourself and \
                     revoke the keys it lists.",
                    path.display()
                ),
            )
            .into();
        }
    }
    let text = match fs::read_to_string(&reported) {
        Ok(text) => text,
        Err(err) => {
            return Diagnostic::warning(
                "Cannot read the provider's recovery file",
                format!(
                    "{} lists API keys that an earlier, killed Terraform run created and no \
                     state records, but reading it failed: {err}. Read it yourself and revoke \
                     the keys it lists.",
                    reported.display()
                ),
            )
            .into();
        }
    };
    let mut diags = Diagnostics::new();
    let mut unreadable = 0;
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        match serde_json::from_str::<LostKey>(line) {
            Ok(lost) => diags.push(warning(&lost, &reported)),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        diags.push(Diagnostic::warning(
            "Unreadable entries in the provider's recovery file",
            format!(
                "{unreadable} line(s) of {} could not be read as a key record. Read the file \
                 yourself: each line names an API key that an earlier, killed Terraform run \
                 created and no state records.",
                reported.display()
            ),
        ));
    }
    diags
}

/// `lost-keys.reported-<unix time>-<pid>.jsonl` beside the file.
fn reported_name(path: &Path) -> PathBuf {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stem = path
        .file_stem()
        .map_or_else(|| "lost-keys".into(), |s| s.to_string_lossy());
    path.with_file_name(format!(
        "{stem}.reported-{seconds}-{}.jsonl",
        std::process::id()
    ))
}

fn warning(lost: &LostKey, kept_in: &Path) -> Diagnostic {
    let recorded = match (&lost.recorded_at, &lost.working_directory) {
        (Some(at), Some(dir)) => format!(" It was recorded at {at}, in {dir}."),
        (Some(at), None) => format!(" It was recorded at {at}."),
        (None, Some(dir)) => format!(" It was recorded in {dir}."),
        (None, None) => String::new(),
    };
    Diagnostic::warning(
        "API key created while Terraform was killed",
        format!(
            "An earlier Terraform run was killed while Parallel created {}: the key was \
             created, but Terraform was gone before it could be told, so no Terraform state \
             records it and it is still live.{recorded} To remove it, {}. If its resource is \
             still in the configuration, apply creates another key for it; the one named here \
             is not used by Terraform. This warning is shown once; the record is kept in {}.",
            lost.facts().label(),
            lost.how_to_revoke(),
            kept_in.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts of a created key's state, secret and all.
    fn facts() -> KeyFacts {
        use tfplugin::model::Model;
        super::super::model::ApiKeyModel::from_value(&tfplugin::Value::object([
            ("api_key_name", tfplugin::Value::string("ci")),
            ("api_key_id", tfplugin::Value::string("key_1")),
            (
                "app_id",
                tfplugin::Value::string("3c90c3cc-0d44-4b50-8888-8dd25736052a"),
            ),
            ("display_value", tfplugin::Value::string("par_…6789")),
            ("raw_api_key", tfplugin::Value::string("par_live_SECRET")),
        ]))
        .unwrap()
        .facts()
    }

    #[test]
    fn the_location_is_the_override_then_xdg_state_then_home() {
        fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        }
        let both = [("HOME", "/home/u"), ("XDG_STATE_HOME", "/state")];
        assert_eq!(
            location(env(&[
                (ENV_RECOVERY_FILE, "/tmp/r.jsonl"),
                ("HOME", "/home/u")
            ])),
            Some(PathBuf::from("/tmp/r.jsonl"))
        );
        assert_eq!(
            location(env(&both)),
            Some(PathBuf::from(
                "/state/terraform-provider-parallel/lost-keys.jsonl"
            ))
        );
        assert_eq!(
            location(env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "relative")])),
            Some(PathBuf::from(
                "/home/u/.local/state/terraform-provider-parallel/lost-keys.jsonl"
            ))
        );
        assert_eq!(location(env(&[(ENV_RECOVERY_FILE, "")])), None);
    }

    #[test]
    fn a_record_is_private_holds_no_secret_and_is_reported_once() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("state/lost-keys.jsonl");
        let url = "http://127.0.0.1:1/service/v1/apps/a/keys/key_1".to_owned();
        append(&path, &LostKey::new(&facts(), Some(url.clone()))).expect("append");
        append(&path, &LostKey::new(&facts(), None)).expect("append");
        let mode = fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(path.parent().expect("parent"))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("\"api_key_id\":\"key_1\""), "{text}");
        assert!(text.contains("par_…6789"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");

        let diags = report_from(&path);
        let details: Vec<&str> = diags.iter().map(|d| d.detail.as_str()).collect();
        assert_eq!(details.len(), 2, "{details:?}");
        assert!(
            details[0].contains("API key \"ci\" (ID key_1)"),
            "{}",
            details[0]
        );
        assert!(
            details[0].contains(&format!(
                "curl -X DELETE -H \"Authorization: Bearer $PARALLEL_ACCESS_TOKEN\" '{url}'"
            )),
            "{}",
            details[0]
        );
        assert!(details[1].contains("Parallel platform"), "{}", details[1]);
        assert!(!details.iter().any(|d| d.contains("SECRET")));
        assert!(!path.exists(), "the reported file is moved aside");
        assert!(report_from(&path).is_empty(), "reported once");
        let kept = fs::read_dir(path.parent().expect("parent"))
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".reported-"))
            .count();
        assert_eq!(kept, 1, "the record is kept");
    }

    #[test]
    fn unreadable_lines_are_said_so() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("lost-keys.jsonl");
        fs::write(&path, "{not json\n\n").expect("write");
        let diags = report_from(&path);
        assert_eq!(diags.iter().count(), 1);
        assert!(diags.iter().all(|d| d.detail.contains("1 line(s)")));
    }
}
