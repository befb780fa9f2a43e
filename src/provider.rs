//! The `parallel` provider: its configuration block, and the one Account API
//! client it builds from it, which the framework hands to every object.

use crate::client::{
    AccountClient, ClientConfig, ConfigError, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES,
    DEFAULT_PLATFORM_URL, DEFAULT_REQUEST_TIMEOUT, PlatformClient, PlatformConfig, check_base_url,
};
use crate::login::sources::{self, ENV_CLI_AUTH_FILE, ENV_PLATFORM_URL};
use crate::secret::Secret;
use crate::toolkit::{Api, parse_duration};
use crate::{actions, data_sources, ephemeral_resources, list_resources, resources};
use async_trait::async_trait;
use std::sync::Arc;
use tfplugin::model::{Maybe, Model, Number};
use tfplugin::{
    Action, AttrPath, Attribute, Block, Context, DataSource, Diagnostic, Diagnostics,
    EphemeralResource, ListResource, Provider, Resource, Schema, Value, attr_name, attr_path,
    framework::{ConfigureRequest, Configured},
};

const MAX_MAX_RETRIES: u32 = 20;
/// A CA bundle is a few KiB; anything much larger is not one.
const MAX_CA_FILE_BYTES: u64 = 1 << 20;

pub const ENV_ACCESS_TOKEN: &str = "PARALLEL_ACCESS_TOKEN";
/// The variable the Parallel CLI reads, so both tools agree on the API.
pub const ENV_BASE_URL: &str = "PARALLEL_SERVICE_API_URL";
pub const ENV_CA_CERT_FILE: &str = "PARALLEL_CA_CERT_FILE";

/// The provider. It holds nothing: the client it configures reaches the
/// objects through the framework's context.
#[derive(Default)]
pub struct ParallelProvider;

impl ParallelProvider {
    pub fn new() -> Self {
        ParallelProvider
    }
}

pub fn provider_schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "The Parallel provider manages the API keys of [Parallel](https://parallel.ai) \
             apps through Parallel's Account API (`https://api.parallel.ai/account`).",
        )
        .attribute(Attribute::string("access_token").optional().sensitive().description(
            "Account API access token, minted by Parallel's OAuth device flow (not a normal \
             API key). Defaults to the `PARALLEL_ACCESS_TOKEN` environment variable, then to \
             the Parallel CLI's saved login (see `cli_auth_file`). A token given here or in the \
             environment is used as it is and never refreshed.",
        ))
        .attribute(Attribute::string("cli_auth_file").optional().description(
            "Path of the Parallel CLI's saved login, used when no access token is given. \
             Defaults to the `PARALLEL_CLI_AUTH_FILE` environment variable, then to \
             `~/.config/parallel-web-tools/auth.json`, where `parallel-cli login` saves it. The \
             provider refreshes its access token when needed and writes the new tokens back \
             to the file.",
        ))
        .attribute(Attribute::string("org_id").optional().description(
            "The organization whose saved login to use, when the Parallel CLI's saved login \
             holds several. Defaults to the organization the CLI has selected. Ignored when an \
             access token is given.",
        ))
        .attribute(Attribute::string("base_url").optional().description(
            "Base URL of the Account API. Defaults to the `PARALLEL_SERVICE_API_URL` \
             environment variable, then `https://api.parallel.ai/account`. Plain `http://` is \
             accepted only for loopback addresses (a local emulator), because the access token \
             would otherwise travel in clear.",
        ))
        .attribute(Attribute::number("max_retries").optional().description(
            "How many times a request is retried when the API is rate limiting or briefly \
             unavailable (default 4, at most 20; `0` disables retries). A key creation is \
             retried only when the API certainly did not act on it.",
        ))
        .attribute(Attribute::string("request_timeout").optional().description(
            "Time limit of one HTTP request, as a duration such as `30s` or `2m` (default \
             `30s`).",
        ))
        .attribute(Attribute::string("ca_cert_file").optional().description(
            "Path of a PEM file with extra certificate authorities to trust, for a TLS \
             inspecting corporate proxy. Defaults to the `PARALLEL_CA_CERT_FILE` environment \
             variable. `HTTPS_PROXY` and `NO_PROXY` are honoured.",
        )),
    )
}

tfplugin::model! {
    /// The provider block. Any setting may come from a value not known
    /// until apply.
    #[derive(Debug, Default)]
    pub struct ProviderModel {
        pub access_token: Maybe<Secret>,
        pub cli_auth_file: Maybe<String>,
        pub org_id: Maybe<String>,
        pub base_url: Maybe<String>,
        pub max_retries: Maybe<Number>,
        pub request_timeout: Maybe<String>,
        pub ca_cert_file: Maybe<String>,
    }
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A string setting from the provider block, else the environment.
/// `Err(())` means "not known yet" (it depends on something unapplied).
fn setting(value: &Maybe<String>, env: Option<&str>) -> Result<Option<String>, ()> {
    match value {
        Maybe::Unknown => Err(()),
        Maybe::Known(s) => Ok(Some(s.clone())),
        Maybe::Null => Ok(env
            .and_then(|var| std::env::var(var).ok())
            .filter(|v| !v.is_empty())),
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

#[async_trait]
impl Provider for ParallelProvider {
    fn type_name(&self) -> &'static str {
        "parallel"
    }

    fn schema(&self) -> Schema {
        provider_schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        let config = match ProviderModel::from_value(config) {
            Ok(config) => config,
            Err(diags) => return diags,
        };
        let mut diags = Diagnostics::new();
        if let Err(d) = parse_max_retries(&config.max_retries) {
            diags.push(d);
        }
        if let Maybe::Known(text) = &config.request_timeout
            && let Err(d) = parse_duration(text, attr_path!(ProviderModel, request_timeout))
        {
            diags.push(d);
        }
        // Known at validate when written literally; the same check runs
        // again at configure for values from variables or the environment.
        if let Maybe::Known(text) = &config.base_url
            && let Err(err) = check_base_url(text)
        {
            diags.push(
                Diagnostic::error("Invalid provider configuration", err.to_string())
                    .at(attr_path!(ProviderModel, base_url)),
            );
        }
        diags
    }

    async fn configure(&self, _ctx: &Context, request: ConfigureRequest) -> Configured {
        // Keys an earlier, killed run created: said once, whatever becomes
        // of this configuration.
        let lost_keys = resources::api_key::recovery::report();
        let mut configured = configure_client(request);
        configured.diagnostics.extend(lost_keys);
        configured
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(resources::api_key::ApiKeyResource),
            Arc::new(resources::app::AppResource),
            Arc::new(resources::rotating_api_key::RotatingApiKeyResource),
        ]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(list_resources::app::AppList)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(data_sources::app::AppDataSource),
            Arc::new(data_sources::apps::AppsDataSource),
            Arc::new(data_sources::balance::BalanceDataSource),
        ]
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![Arc::new(ephemeral_resources::api_key::EphemeralApiKey)]
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![Arc::new(actions::add_balance::AddBalanceAction)]
    }
}

/// The client from the provider's configuration (the environment and the
/// Parallel CLI's saved login filling in what the block leaves out).
fn configure_client(request: ConfigureRequest) -> Configured {
    let config = match ProviderModel::from_value(&request.config) {
        Ok(config) => config,
        Err(diags) => return Configured::failed(diags),
    };
    let mut diags = Diagnostics::new();
    // Exposed only to hand it to the credential sources, which keep it in
    // a `Secret` again.
    let access_token = match &config.access_token {
        Maybe::Known(token) => Maybe::Known(token.expose().to_owned()),
        Maybe::Unknown => Maybe::Unknown,
        Maybe::Null => Maybe::Null,
    };
    let (Ok(token), Ok(base_url), Ok(timeout), Ok(ca_file), Ok(org_id), Ok(auth_file)) = (
        setting(&access_token, None),
        setting(&config.base_url, Some(ENV_BASE_URL)),
        setting(&config.request_timeout, None),
        setting(&config.ca_cert_file, Some(ENV_CA_CERT_FILE)),
        setting(&config.org_id, None),
        setting(&config.cli_auth_file, None),
    ) else {
        // Terraform configures again at apply, when everything is known.
        tracing::debug!("provider configuration not yet known; deferring client set-up");
        return Configured::default();
    };
    if config.max_retries.is_unknown() {
        tracing::debug!("max_retries not yet known; deferring client set-up");
        return Configured::default();
    }
    let max_retries = match parse_max_retries(&config.max_retries) {
        Ok(n) => n,
        Err(d) => {
            diags.push(d);
            return Configured::failed(diags);
        }
    };
    let request_timeout = match timeout {
        None => DEFAULT_REQUEST_TIMEOUT,
        Some(text) => match parse_duration(&text, attr_path!(ProviderModel, request_timeout)) {
            Ok(d) => d,
            Err(d) => {
                diags.push(d);
                return Configured::failed(diags);
            }
        },
    };
    let ca_cert_pem = match ca_file {
        None => None,
        Some(path) => match read_ca_file(&path) {
            Ok(pem) => Some(pem),
            Err(err) => {
                diags.push(
                    Diagnostic::error(
                        "Cannot read ca_cert_file",
                        format!("Reading {path:?} failed: {err}."),
                    )
                    .at(attr_path!(ProviderModel, ca_cert_file)),
                );
                return Configured::failed(diags);
            }
        },
    };
    let user_agent = format!(
        "terraform-provider-parallel/{} terraform/{}",
        env!("CARGO_PKG_VERSION"),
        request.terraform_version
    );
    let inputs = sources::Inputs {
        attribute_token: token,
        env_token: env(ENV_ACCESS_TOKEN),
        org_id,
        file_attribute: auth_file,
        file_env: env(ENV_CLI_AUTH_FILE),
        default_file: crate::login::store::default_path(),
    };
    let platform = || {
        PlatformClient::new(PlatformConfig {
            platform_url: env(ENV_PLATFORM_URL).unwrap_or_else(|| DEFAULT_PLATFORM_URL.to_owned()),
            max_retries,
            request_timeout,
            ca_cert_pem: ca_cert_pem.clone(),
            user_agent: user_agent.clone(),
        })
    };
    let resolved = match sources::resolve(inputs, platform) {
        Ok(resolved) => resolved,
        Err(diagnostic) => return Configured::failed(diagnostic),
    };
    diags.extend(resolved.warnings.into_iter().collect());
    let client_config = ClientConfig {
        base_url: base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        credentials: resolved.credentials,
        max_retries,
        request_timeout,
        ca_cert_pem,
        user_agent,
    };
    match AccountClient::new(client_config) {
        Ok(client) => {
            let mut configured = Configured::with(Api::new(client));
            configured.diagnostics = diags;
            configured
        }
        Err(err) => {
            let base_url = attr_name!(ProviderModel, base_url);
            let attribute = match err {
                ConfigError::CaCert { .. } => attr_name!(ProviderModel, ca_cert_file),
                ConfigError::AccessTokenMissing | ConfigError::AccessTokenMalformed => {
                    attr_name!(ProviderModel, access_token)
                }
                _ => base_url,
            };
            let mut detail = err.to_string();
            if attribute == base_url && config.base_url.is_null() {
                // The value came from the environment, not the block.
                detail.push_str(&format!(
                    ". The provider block sets no base_url, so this value came from the \
                     {ENV_BASE_URL} environment variable: fix or unset it."
                ));
            }
            Configured::failed(
                Diagnostic::error("Invalid provider configuration", detail)
                    .at(AttrPath::root(attribute)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A provider block with these settings and the rest unset.
    fn config(settings: &[(&str, Value)]) -> Value {
        let mut fields: BTreeMap<String, Value> = [
            "access_token",
            "base_url",
            "max_retries",
            "request_timeout",
            "ca_cert_file",
        ]
        .into_iter()
        .map(|name| (name.to_owned(), Value::Null))
        .collect();
        for (name, value) in settings {
            fields.insert((*name).to_owned(), value.clone());
        }
        Value::Object(fields)
    }

    fn attributes(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect()
    }

    async fn configure(settings: &[(&str, Value)]) -> Configured {
        let request = ConfigureRequest {
            terraform_version: "1.15.5".into(),
            config: config(settings),
        };
        ParallelProvider::new()
            .configure(&Context::default(), request)
            .await
    }

    fn token() -> (&'static str, Value) {
        ("access_token", Value::string("test-token"))
    }

    #[test]
    fn the_model_is_the_schema() {
        ProviderModel::check_schema(&provider_schema().block).unwrap();
    }

    #[test]
    fn validate_names_each_bad_setting_and_waits_for_unknown_ones() {
        let diags = ParallelProvider::new().validate_config(&config(&[
            ("max_retries", Value::number(21)),
            ("request_timeout", Value::string("soon")),
            ("base_url", Value::string("ftp://x")),
        ]));
        assert_eq!(
            attributes(&diags),
            ["max_retries", "request_timeout", "base_url"]
        );
        let unknown = config(&[
            ("max_retries", Value::Unknown),
            ("request_timeout", Value::Unknown),
            ("base_url", Value::Unknown),
        ]);
        assert!(ParallelProvider::new().validate_config(&unknown).is_empty());
    }

    #[tokio::test]
    async fn a_complete_configuration_hands_the_objects_an_api() {
        let configured = configure(&[
            token(),
            ("base_url", Value::string("http://127.0.0.1:9")),
            ("max_retries", Value::number(0)),
            ("request_timeout", Value::string("2s")),
        ])
        .await;
        assert!(
            configured.diagnostics.is_empty(),
            "{:?}",
            configured.diagnostics
        );
        let data = configured.data.expect("configured data");
        assert!(data.downcast_ref::<Api>().is_some());
    }

    #[tokio::test]
    async fn a_setting_not_known_yet_defers_configuration() {
        let configured = configure(&[("access_token", Value::Unknown)]).await;
        assert!(configured.data.is_none());
        assert!(configured.diagnostics.is_empty());
    }

    #[tokio::test]
    async fn bad_settings_fail_at_their_attribute() {
        let cases = [
            (
                ("ca_cert_file", Value::string("/nonexistent/ca.pem")),
                "ca_cert_file",
            ),
            (
                ("base_url", Value::string("http://example.com")),
                "base_url",
            ),
            (("max_retries", Value::number(99)), "max_retries"),
            (("request_timeout", Value::string("0s")), "request_timeout"),
        ];
        for (setting, attribute) in cases {
            let configured = configure(&[token(), setting.clone()]).await;
            assert!(configured.data.is_none(), "{setting:?}");
            assert_eq!(
                attributes(&configured.diagnostics),
                [attribute],
                "{setting:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_base_url_error_from_the_block_does_not_blame_the_environment() {
        let configured =
            configure(&[token(), ("base_url", Value::string("http://example.com"))]).await;
        let diag = configured.diagnostics.iter().next().expect("an error");
        assert!(!diag.detail.contains(ENV_BASE_URL), "{}", diag.detail);
    }
}
