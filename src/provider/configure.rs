//! From the provider block (the environment filling in what it leaves out)
//! to the one Account API client the objects get: read the settings, pick
//! the credentials, build the client.

use super::credentials::{self, Inputs};
use super::{
    ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_CA_CERT_FILE, ENV_CLI_AUTH_FILE, ENV_PLATFORM_URL,
    MAX_CA_FILE_BYTES, MAX_MAX_RETRIES, ProviderModel,
};
use crate::client::{
    AccountClient, ClientConfig, ConfigError, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES,
    DEFAULT_PLATFORM_URL, DEFAULT_REQUEST_TIMEOUT, PlatformClient, PlatformConfig,
};
use crate::login::Surroundings;
use crate::secret::Secret;
use crate::toolkit::{Api, parse_duration};
use std::time::Duration;
use tfplugin::framework::{ConfigureRequest, Configured};
use tfplugin::model::{Maybe, Model, Number};
use tfplugin::{AttrPath, Diagnostic, attr_name, attr_path};

/// Where settings the block leaves out come from: the process environment
/// in the provider, a map in tests.
pub type Environment<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment; an empty variable counts as unset.
pub fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The client from the provider's configuration.
pub fn configure_client(
    request: ConfigureRequest,
    surroundings: Surroundings,
    env: Environment<'_>,
) -> Configured {
    let config = match ProviderModel::from_value(&request.config) {
        Ok(config) => config,
        Err(diags) => return Configured::failed(diags),
    };
    let settings = match Settings::read(&config, env, &request.terraform_version) {
        Ok(Some(settings)) => settings,
        // Terraform configures again at apply, when everything is known.
        Ok(None) => return Configured::default(),
        Err(diagnostic) => return Configured::failed(diagnostic),
    };
    let inputs = Inputs {
        attribute_token: settings.token.clone(),
        env_token: env(ENV_ACCESS_TOKEN).map(Secret::new),
        org_id: settings.org_id.clone(),
        file_attribute: settings.auth_file.clone(),
        file_env: env(ENV_CLI_AUTH_FILE),
        default_file: crate::login::store::default_path(),
    };
    let platform_url = env(ENV_PLATFORM_URL).unwrap_or_else(|| DEFAULT_PLATFORM_URL.to_owned());
    let platform = || PlatformClient::new(settings.platform_config(platform_url));
    let resolved = match credentials::resolve(inputs, platform, surroundings) {
        Ok(resolved) => resolved,
        Err(diagnostic) => return Configured::failed(diagnostic),
    };
    let from_env = config.base_url.is_null();
    match AccountClient::new(settings.client_config(resolved.credentials)) {
        Ok(client) => {
            let mut configured = Configured::with(Api::new(client));
            configured.diagnostics = resolved.warnings.into_iter().collect();
            configured
        }
        Err(err) => Configured::failed(client_error(&err, from_env)),
    }
}

/// The block's settings, with the environment's where it is silent.
struct Settings {
    token: Option<Secret>,
    base_url: String,
    org_id: Option<String>,
    auth_file: Option<String>,
    max_retries: u32,
    request_timeout: Duration,
    ca_cert_pem: Option<String>,
    user_agent: String,
}

impl Settings {
    /// `Ok(None)` while a setting is not known yet (it depends on
    /// something not applied).
    fn read(
        config: &ProviderModel,
        env: Environment<'_>,
        terraform_version: &str,
    ) -> Result<Option<Settings>, Diagnostic> {
        // Exposed only to hand it to the credential sources, which keep it
        // in a `Secret` again.
        let access_token = match &config.access_token {
            Maybe::Known(token) => Maybe::Known(token.expose().to_owned()),
            Maybe::Unknown => Maybe::Unknown,
            Maybe::Null => Maybe::Null,
        };
        let (Ok(token), Ok(base_url), Ok(timeout), Ok(ca_file), Ok(org_id), Ok(auth_file)) = (
            setting(&access_token, None, env),
            setting(&config.base_url, Some(ENV_BASE_URL), env),
            setting(&config.request_timeout, None, env),
            setting(&config.ca_cert_file, Some(ENV_CA_CERT_FILE), env),
            setting(&config.org_id, None, env),
            setting(&config.cli_auth_file, None, env),
        ) else {
            tracing::debug!("provider configuration not yet known; deferring client set-up");
            return Ok(None);
        };
        if config.max_retries.is_unknown() {
            tracing::debug!("max_retries not yet known; deferring client set-up");
            return Ok(None);
        }
        let max_retries = parse_max_retries(&config.max_retries)?;
        let request_timeout = match timeout {
            None => DEFAULT_REQUEST_TIMEOUT,
            Some(text) => parse_duration(&text, attr_path!(ProviderModel, request_timeout))?,
        };
        let ca_cert_pem = match ca_file {
            None => None,
            Some(path) => Some(read_ca_file(&path).map_err(|err| {
                Diagnostic::error(
                    "Cannot read ca_cert_file",
                    format!("Reading {path:?} failed: {err}."),
                )
                .at(attr_path!(ProviderModel, ca_cert_file))
            })?),
        };
        Ok(Some(Settings {
            token: token.map(Secret::new),
            base_url: base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            org_id,
            auth_file,
            max_retries,
            request_timeout,
            ca_cert_pem,
            user_agent: format!(
                "terraform-provider-parallel/{} terraform/{terraform_version}",
                env!("CARGO_PKG_VERSION"),
            ),
        }))
    }

    fn platform_config(&self, platform_url: String) -> PlatformConfig {
        PlatformConfig {
            platform_url,
            max_retries: self.max_retries,
            request_timeout: self.request_timeout,
            ca_cert_pem: self.ca_cert_pem.clone(),
            user_agent: self.user_agent.clone(),
        }
    }

    fn client_config(self, credentials: crate::client::Credentials) -> ClientConfig {
        ClientConfig {
            base_url: self.base_url,
            credentials,
            max_retries: self.max_retries,
            request_timeout: self.request_timeout,
            ca_cert_pem: self.ca_cert_pem,
            user_agent: self.user_agent,
        }
    }
}

/// A client that cannot be built, at the attribute that caused it. A
/// base_url the block does not set came from the environment: say so.
fn client_error(err: &ConfigError, base_url_from_env: bool) -> Diagnostic {
    let base_url = attr_name!(ProviderModel, base_url);
    let attribute = match err {
        ConfigError::CaCert { .. } => attr_name!(ProviderModel, ca_cert_file),
        ConfigError::AccessTokenMissing | ConfigError::AccessTokenMalformed => {
            attr_name!(ProviderModel, access_token)
        }
        _ => base_url,
    };
    let mut detail = err.to_string();
    if attribute == base_url && base_url_from_env {
        detail.push_str(&format!(
            ". The provider block sets no base_url, so this value came from the \
             {ENV_BASE_URL} environment variable: fix or unset it."
        ));
    }
    Diagnostic::error("Invalid provider configuration", detail).at(AttrPath::root(attribute))
}

/// A string setting from the provider block, else the environment.
/// `Err(())` means "not known yet" (it depends on something unapplied).
fn setting(
    value: &Maybe<String>,
    variable: Option<&str>,
    env: Environment<'_>,
) -> Result<Option<String>, ()> {
    match value {
        Maybe::Unknown => Err(()),
        Maybe::Known(s) => Ok(Some(s.clone())),
        Maybe::Null => Ok(variable.and_then(env)),
    }
}

fn parse_max_retries(value: &Maybe<Number>) -> Result<u32, Diagnostic> {
    let Maybe::Known(number) = value else {
        return Ok(DEFAULT_MAX_RETRIES);
    };
    number
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n <= MAX_MAX_RETRIES)
        .ok_or_else(|| {
            Diagnostic::error(
                "Invalid max_retries",
                format!("max_retries must be a whole number from 0 to {MAX_MAX_RETRIES}."),
            )
            .at(attr_path!(ProviderModel, max_retries))
        })
}

/// Reads a PEM bundle, refusing what cannot be one (a device, a FIFO, a
/// huge file) instead of hanging or exhausting memory on it.
fn read_ca_file(path: &str) -> std::io::Result<String> {
    // Look before opening: opening a FIFO blocks until someone writes to it.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if metadata.len() > MAX_CA_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB, so not a CA bundle",
            MAX_CA_FILE_BYTES / 1024
        )));
    }
    std::fs::read_to_string(path)
}
