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

use tfplugin::{Diagnostic, attr_path};

use super::{ENV_ACCESS_TOKEN, ENV_CLI_AUTH_FILE, ProviderModel};
use crate::client::{ConfigError, Credentials, PlatformClient, TokenOrigin};
use crate::login::file::{AuthFile, EXPIRY_MARGIN_SECS, OrgLogin, Verdict};
use crate::login::{SavedLogin, Surroundings, expired_text, store, unix_now};
use crate::secret::Secret;

/// What configuration and environment say about credentials.
#[derive(Debug, Default)]
pub struct Inputs {
    pub attribute_token: Option<Secret>,
    pub env_token: Option<Secret>,
    pub org_id: Option<String>,
    pub file_attribute: Option<String>,
    pub file_env: Option<String>,
    /// `~/.config/parallel-web-tools/auth.json`, when there is a home.
    pub default_file: Option<PathBuf>,
}

/// The credentials to use, and warnings about them.
pub struct Resolved {
    pub credentials: Credentials,
    pub warnings: Vec<Diagnostic>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("credentials", &self.credentials)
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

/// Picks the credentials. `platform` builds the token endpoint's client,
/// only when the saved login is used.
pub fn resolve(
    inputs: Inputs,
    platform: impl FnOnce() -> Result<PlatformClient, ConfigError>,
    surroundings: Surroundings,
) -> Result<Resolved, Diagnostic> {
    if let Some(credentials) = given_token(&inputs) {
        return Ok(Resolved {
            credentials,
            warnings: Vec::new(),
        });
    }
    let file = LoginFile::chosen(&inputs).ok_or_else(|| missing("no home directory to look in"))?;
    let (login, warnings) = file.read(inputs.org_id.as_deref())?;
    let platform = platform()
        .map_err(|e| Diagnostic::error("Invalid provider configuration", e.to_string()))?;
    let source = SavedLogin::new(file.path, login, platform, surroundings);
    Ok(Resolved {
        credentials: Credentials::source(Arc::new(source)),
        warnings,
    })
}

/// A token given in the block, else in the environment: used as it is.
fn given_token(inputs: &Inputs) -> Option<Credentials> {
    [
        (&inputs.attribute_token, TokenOrigin::Attribute),
        (&inputs.env_token, TokenOrigin::Environment),
    ]
    .into_iter()
    .find_map(|(token, origin)| {
        let token = token.as_ref().filter(|t| !t.expose().is_empty())?;
        Some(Credentials::token(token.clone(), origin))
    })
}

/// No token anywhere; `looked` says what was found where the login would be.
fn missing(looked: &str) -> Diagnostic {
    Diagnostic::error(
        "Missing Parallel access token",
        format!(
            "The parallel provider needs an Account API access token, and found none: set \
             access_token in the provider block or the {ENV_ACCESS_TOKEN} environment variable, \
             or log in once with `parallel-cli login`, whose saved login the provider reads \
             and refreshes itself ({looked}). A normal Parallel API key does not work."
        ),
    )
    .at(attr_path!(ProviderModel, access_token))
}

/// The saved login's file, and who named it.
struct LoginFile {
    path: PathBuf,
    /// `Some("cli_auth_file")` or `Some(ENV_CLI_AUTH_FILE)`: someone named
    /// this file, so its absence is an error about that setting; `None`:
    /// the default place, where no file just means no login.
    named_by: Option<&'static str>,
}

impl LoginFile {
    fn chosen(inputs: &Inputs) -> Option<LoginFile> {
        let (path, named_by) = match (&inputs.file_attribute, &inputs.file_env) {
            (Some(path), _) => (PathBuf::from(path), Some("cli_auth_file")),
            (None, Some(path)) => (PathBuf::from(path), Some(ENV_CLI_AUTH_FILE)),
            (None, None) => (inputs.default_file.clone()?, None),
        };
        Some(LoginFile { path, named_by })
    }

    /// Problems of the file are the `cli_auth_file` attribute's, whose
    /// default the environment variable is.
    fn at(&self, diagnostic: Diagnostic) -> Diagnostic {
        diagnostic.at(attr_path!(ProviderModel, cli_auth_file))
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    fn unreadable(&self, problem: &str) -> Diagnostic {
        let shown = self.shown();
        self.at(Diagnostic::error(
            "Cannot read the saved Parallel CLI login",
            format!(
                "Cannot read the saved Parallel CLI login in {shown}: {problem}. Run \
                 `parallel-cli login` to write it again, or point cli_auth_file or \
                 {ENV_CLI_AUTH_FILE} at another file."
            ),
        ))
    }

    /// The login of the organization `org_id` (else the selected one),
    /// checked to be usable now, and warnings about the file.
    fn read(&self, org_id: Option<&str>) -> Result<(OrgLogin, Vec<Diagnostic>), Diagnostic> {
        let shown = self.shown();
        let read = match store::read(&self.path) {
            Ok(Some(read)) => read,
            Ok(None) => {
                return Err(match self.named_by {
                    Some(named_by) => {
                        self.unreadable(&format!("there is no such file (named by {named_by})"))
                    }
                    None => missing(&format!("{shown} does not exist")),
                });
            }
            Err(e) => return Err(self.unreadable(&e.to_string())),
        };
        let mut warnings = Vec::new();
        if let Some(mode) = read.too_open {
            tracing::warn!(file = %shown, mode = format!("{mode:o}"), "the saved Parallel CLI login is readable by others");
            warnings.push(self.at(Diagnostic::warning(
                "The saved Parallel CLI login is not private",
                format!(
                    "{shown} has mode {mode:04o}: other users of this machine may read or \
                     change it, and its tokens give access to your Parallel organization. Run \
                     `chmod 600 {shown}`. (It was used anyway.)"
                ),
            )));
        }
        let auth = AuthFile::parse(&read.bytes).map_err(|p| self.unreadable(&p.to_string()))?;
        let login = auth.select(org_id).map_err(|problem| {
            let unusable = Diagnostic::error(
                "Unusable saved Parallel CLI login",
                format!(
                    "The saved Parallel CLI login in {shown} cannot be used: {problem}. Run \
                     `parallel-cli login` for the organization you want."
                ),
            );
            match org_id {
                Some(_) => unusable.at(attr_path!(ProviderModel, org_id)),
                None => self.at(unusable),
            }
        })?;
        if let Verdict::Expired(why) = login.verdict(unix_now(), EXPIRY_MARGIN_SECS) {
            return Err(self.at(Diagnostic::error(
                "The saved Parallel CLI login has expired",
                expired_text(&shown, &why),
            )));
        }
        Ok((login, warnings))
    }
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
            attribute_token: attribute.map(|t| Secret::new(t.to_owned())),
            env_token: Some(Secret::new("from-env".to_owned())),
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
        let named = resolve(
            Inputs {
                file_env: Some(absent.display().to_string()),
                ..Inputs::default()
            },
            platform,
            Surroundings::default(),
        )
        .expect_err("an error");
        let text = format!("{named:?}");
        assert!(
            text.contains(&format!("{}: there is no such file", absent.display())),
            "{text}"
        );
        assert!(text.contains(ENV_CLI_AUTH_FILE), "{text}");
        // The path is the attribute the variable stands in for, never the
        // variable's name.
        assert_eq!(
            named.attribute,
            Some(tfplugin::AttrPath::root("cli_auth_file"))
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
