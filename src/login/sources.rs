//! Which access token the provider uses, first match wins:
//!
//! 1. the provider block's `access_token`;
//! 2. the `PARALLEL_ACCESS_TOKEN` environment variable;
//! 3. the Parallel CLI's saved login: the file named by `cli_auth_file`,
//!    else by `PARALLEL_CLI_AUTH_FILE`, else `~/.config/parallel-web-tools/
//!    auth.json`; its organization is `org_id`, else the file's selected one.
//!
//! The first two are used as they are, for the whole run. The saved login
//! is read and checked here, at configuration, so that a login that has
//! expired fails before any Account API call; it is refreshed only when a
//! request needs it.

use std::path::PathBuf;
use std::sync::Arc;

use tfplugin::{AttrPath, Diagnostic};

use super::file::{AuthFile, EXPIRY_MARGIN_SECS, Verdict};
use super::{SavedLogin, Surroundings, expired_text, store, unix_now};
use crate::client::{ConfigError, Credentials, PlatformClient, TokenOrigin};
use crate::provider::ENV_ACCESS_TOKEN;
use crate::secret::Secret;

pub const ENV_CLI_AUTH_FILE: &str = "PARALLEL_CLI_AUTH_FILE";
/// Where the token endpoint is; the Parallel CLI reads the same variable.
pub const ENV_PLATFORM_URL: &str = "PARALLEL_PLATFORM_URL";

/// What configuration and environment say about credentials.
#[derive(Debug, Default)]
pub struct Inputs {
    pub attribute_token: Option<String>,
    pub env_token: Option<String>,
    pub org_id: Option<String>,
    pub file_attribute: Option<String>,
    pub file_env: Option<String>,
    /// `~/.config/parallel-web-tools/auth.json`, when there is a home.
    pub default_file: Option<PathBuf>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("credentials", &self.credentials)
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

/// The credentials to use, and warnings about them.
pub struct Resolved {
    pub credentials: Credentials,
    pub warnings: Vec<Diagnostic>,
}

fn at(diagnostic: Diagnostic, attribute: &str) -> Diagnostic {
    diagnostic.at(AttrPath::root(attribute))
}

/// Picks the credentials. `platform` builds the token endpoint's client,
/// only when the saved login is used.
pub fn resolve(
    inputs: Inputs,
    platform: impl FnOnce() -> Result<PlatformClient, ConfigError>,
    surroundings: Surroundings,
) -> Result<Resolved, Diagnostic> {
    let given = [
        (inputs.attribute_token, TokenOrigin::Attribute),
        (inputs.env_token, TokenOrigin::Environment),
    ];
    for (token, origin) in given {
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            return Ok(Resolved {
                credentials: Credentials::token(Secret::new(token), origin),
                warnings: Vec::new(),
            });
        }
    }

    let (path, attribute) = match (inputs.file_attribute, inputs.file_env) {
        (Some(path), _) => (Some(PathBuf::from(path)), Some("cli_auth_file")),
        (None, Some(path)) => (Some(PathBuf::from(path)), Some(ENV_CLI_AUTH_FILE)),
        (None, None) => (inputs.default_file, None),
    };
    let missing = |looked: String| {
        at(
            Diagnostic::error(
                "Missing Parallel access token",
                format!(
                    "The parallel provider needs an Account API access token, and found none: \
                     set access_token in the provider block or the {ENV_ACCESS_TOKEN} environment \
                     variable, or log in once with `parallel-cli login`, whose saved login the \
                     provider reads and refreshes itself ({looked}). A normal Parallel API key \
                     does not work."
                ),
            ),
            "access_token",
        )
    };
    let Some(path) = path else {
        return Err(missing("no home directory to look in".to_owned()));
    };
    let shown = path.display().to_string();
    let file_attribute = attribute.unwrap_or("cli_auth_file");
    let unreadable = |problem: String| {
        at(
            Diagnostic::error(
                "Cannot read the saved Parallel CLI login",
                format!(
                    "Cannot read the saved Parallel CLI login in {shown}: {problem}. Run \
                     `parallel-cli login` to write it again, or point cli_auth_file or \
                     {ENV_CLI_AUTH_FILE} at another file."
                ),
            ),
            file_attribute,
        )
    };
    let read = match store::read(&path) {
        Ok(Some(read)) => read,
        Ok(None) => {
            return Err(match attribute {
                Some(named_by) => {
                    unreadable(format!("there is no such file (named by {named_by})"))
                }
                None => missing(format!("{shown} does not exist")),
            });
        }
        Err(e) => return Err(unreadable(e.to_string())),
    };
    let mut warnings = Vec::new();
    if let Some(mode) = read.too_open {
        tracing::warn!(file = %shown, mode = format!("{mode:o}"), "the saved Parallel CLI login is readable by others");
        warnings.push(at(
            Diagnostic::warning(
                "The saved Parallel CLI login is not private",
                format!(
                    "{shown} has mode {mode:04o}: other users of this machine may read or \
                     change it, and its tokens give access to your Parallel organization. Run \
                     `chmod 600 {shown}`. (It was used anyway.)"
                ),
            ),
            file_attribute,
        ));
    }
    let auth = AuthFile::parse(&read.bytes).map_err(|p| unreadable(p.to_string()))?;
    let login = auth.select(inputs.org_id.as_deref()).map_err(|problem| {
        let attribute = if inputs.org_id.is_some() {
            "org_id"
        } else {
            file_attribute
        };
        at(
            Diagnostic::error(
                "Unusable saved Parallel CLI login",
                format!(
                    "The saved Parallel CLI login in {shown} cannot be used: {problem}. Run \
                     `parallel-cli login` for the organization you want."
                ),
            ),
            attribute,
        )
    })?;
    if let Verdict::Expired(why) = login.verdict(unix_now(), EXPIRY_MARGIN_SECS) {
        return Err(at(
            Diagnostic::error(
                "The saved Parallel CLI login has expired",
                expired_text(&shown, &why),
            ),
            file_attribute,
        ));
    }
    let platform = platform()
        .map_err(|e| Diagnostic::error("Invalid provider configuration", e.to_string()))?;
    let source = SavedLogin::new(path, login, platform, surroundings);
    Ok(Resolved {
        credentials: Credentials::source(Arc::new(source)),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::PlatformConfig;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn platform() -> Result<PlatformClient, ConfigError> {
        PlatformClient::new(PlatformConfig {
            platform_url: "https://platform.parallel.ai".into(),
            max_retries: 0,
            request_timeout: Duration::from_secs(1),
            ca_cert_pem: None,
            user_agent: "t".into(),
        })
    }

    fn login_file(dir: &std::path::Path, control: serde_json::Value) -> PathBuf {
        let path = dir.join("auth.json");
        let content = json!({
            "version": 1, "selected_org_id": "org-a", "client_id": null,
            "orgs": {"org-a": {"api_key": "k", "org_name": "Acme", "control_api": control}}
        });
        std::fs::write(&path, content.to_string()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    fn good() -> serde_json::Value {
        json!({"access_token": "at", "access_token_expires_at": unix_now() + 3600,
               "refresh_token": "rt", "authorization_expires_at": unix_now() + 3600})
    }

    fn detail(result: Result<Resolved, Diagnostic>) -> String {
        format!("{:?}", result.expect_err("an error"))
    }

    #[test]
    fn a_given_token_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = login_file(dir.path(), good());
        let inputs = |attribute: Option<&str>| Inputs {
            attribute_token: attribute.map(str::to_owned),
            env_token: Some("from-env".into()),
            default_file: Some(file.clone()),
            ..Inputs::default()
        };
        let resolved =
            resolve(inputs(Some("from-attr")), platform, Surroundings::default()).unwrap();
        assert_eq!(resolved.credentials.origin(), TokenOrigin::Attribute);
        let resolved = resolve(inputs(None), platform, Surroundings::default()).unwrap();
        assert_eq!(resolved.credentials.origin(), TokenOrigin::Environment);
        let resolved = resolve(
            Inputs {
                default_file: Some(file.clone()),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        )
        .unwrap();
        assert!(matches!(
            resolved.credentials.origin(),
            TokenOrigin::SavedLogin { .. }
        ));
        assert!(resolved.warnings.is_empty());
    }

    #[test]
    fn a_missing_default_file_asks_for_credentials_and_a_named_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("nope.json");
        let text = detail(resolve(
            Inputs {
                default_file: Some(absent.clone()),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        ));
        assert!(text.contains("Missing Parallel access token"), "{text}");
        assert!(text.contains("parallel-cli login"), "{text}");
        let text = detail(resolve(
            Inputs {
                file_env: Some(absent.display().to_string()),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        ));
        assert!(
            text.contains(&format!("{}: there is no such file", absent.display())),
            "{text}"
        );
    }

    #[test]
    fn an_expired_login_fails_at_configuration_with_the_login_hint() {
        let dir = tempfile::tempdir().unwrap();
        let mut control = good();
        control["authorization_expires_at"] = json!(unix_now() - 1);
        let file = login_file(dir.path(), control);
        let text = detail(resolve(
            Inputs {
                file_attribute: Some(file.display().to_string()),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        ));
        assert!(text.contains("has expired"), "{text}");
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains("Run `parallel-cli login`"), "{text}");
    }

    #[test]
    fn a_corrupt_file_is_named_and_an_open_one_only_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let file = login_file(dir.path(), good());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let inputs = || Inputs {
            default_file: Some(file.clone()),
            ..Inputs::default()
        };
        let resolved = resolve(inputs(), platform, Surroundings::default()).unwrap();
        let warning = format!("{:?}", resolved.warnings);
        assert!(warning.contains("mode 0644"), "{warning}");
        std::fs::write(&file, b"{\"orgs\": ").unwrap();
        let text = detail(resolve(inputs(), platform, Surroundings::default()));
        assert!(
            text.contains(&format!("{}: it is not valid JSON", file.display())),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_org_id_lists_the_orgs_held() {
        let dir = tempfile::tempdir().unwrap();
        let file = login_file(dir.path(), good());
        let text = detail(resolve(
            Inputs {
                org_id: Some("org-x".into()),
                default_file: Some(file),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        ));
        assert!(text.contains("org-x"), "{text}");
        assert!(text.contains("Acme (org-a)"), "{text}");
    }
    #[test]
    fn a_dangling_link_as_the_login_names_the_file_and_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("auth.json");
        std::os::unix::fs::symlink(dir.path().join("gone.json"), &link).unwrap();
        let text = detail(resolve(
            Inputs {
                default_file: Some(link.clone()),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        ));
        assert!(
            text.contains(&format!(
                "{}: it is a symbolic link to {}",
                link.display(),
                dir.path().join("gone.json").display()
            )),
            "{text}"
        );
        assert!(!text.contains("Missing Parallel access token"), "{text}");
    }
}
