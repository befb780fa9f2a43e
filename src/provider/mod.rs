//! The `parallel` provider: its configuration block, and the one Account API
//! client it builds from it, which the framework hands to every object.

mod configure;
mod credentials;

use crate::client::check_base_url;
use crate::login::Surroundings;
use crate::secret::Secret;
use crate::toolkit::Api;
use crate::{actions, data_sources, ephemeral_resources, list_resources, resources};
use async_trait::async_trait;
use configure::{configure_client, process_environment};
use std::sync::Arc;
use tfplugin::model::{Maybe, Model, Number};
use tfplugin::validators;
use tfplugin::{
    Action, Attribute, Block, Context, DataSource, Diagnostic, Diagnostics, EphemeralResource,
    ListResource, Provider, Resource, Schema, Value, attr_path,
    framework::{ConfigureRequest, Configured},
};

pub(crate) const MAX_MAX_RETRIES: u32 = 20;
/// A CA bundle is a few KiB; anything much larger is not one.
pub(crate) const MAX_CA_FILE_BYTES: u64 = 1 << 20;

pub const ENV_ACCESS_TOKEN: &str = "PARALLEL_ACCESS_TOKEN";
/// The variable the Parallel CLI reads, so both tools agree on the API.
pub const ENV_BASE_URL: &str = "PARALLEL_SERVICE_API_URL";
pub const ENV_CA_CERT_FILE: &str = "PARALLEL_CA_CERT_FILE";
/// The saved login's file when `cli_auth_file` is not set.
pub const ENV_CLI_AUTH_FILE: &str = "PARALLEL_CLI_AUTH_FILE";
/// Where the token endpoint is; the Parallel CLI reads the same variable.
pub const ENV_PLATFORM_URL: &str = "PARALLEL_PLATFORM_URL";

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
        .attribute(Attribute::number("max_retries").optional().validator(validators::int_between(0, i64::from(MAX_MAX_RETRIES))).description(
            "How many times a request is retried when the API is rate limiting or briefly \
             unavailable (default 4, at most 20; `0` disables retries). A key creation is \
             retried only when the API certainly did not act on it.",
        ))
        .attribute(Attribute::string("request_timeout").optional().validator(validators::duration()).description(
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
        // max_retries and request_timeout are checked by their validators.
        let mut diags = Diagnostics::new();
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

    async fn configure(&self, ctx: &Context, request: ConfigureRequest) -> Configured {
        // Keys and charges whose outcome an earlier, interrupted run never
        // handed to Terraform: said once, whatever becomes of this
        // configuration.
        let journal = crate::journal::Journal::from_env();
        let findings = journal
            .as_ref()
            .map(crate::journal::report::at_configure)
            .unwrap_or_default();
        let mut configured = configure_client(request, Surroundings::of(ctx), &process_environment);
        configured.diagnostics.extend(findings.diagnostics);
        // What processes that no longer exist left unfinished: revokes
        // they never heard back from, ephemeral keys they left open.
        let api = configured
            .data
            .as_ref()
            .and_then(|data| data.downcast_ref::<Api>());
        if let (Some(api), Some(journal)) = (api, &journal) {
            let client = &api.client;
            let revokes = findings.unfinished_revokes;
            resources::api_key::journaled::finish_revokes(client, journal, revokes).await;
            let left_open = findings.open_ephemerals;
            let revoked =
                ephemeral_resources::abandoned::revoke_left_open(client, journal, left_open).await;
            configured.diagnostics.extend(revoked);
        }
        configured
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        resources::all()
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        list_resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        data_sources::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        ephemeral_resources::all()
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        actions::all()
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
        // What the framework runs: the attributes' validators, then the
        // provider's own checks.
        let validate = |config: &Value| {
            let mut diags = provider_schema().block.validate(config);
            diags.extend(ParallelProvider::new().validate_config(config));
            diags
        };
        let diags = validate(&config(&[
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
        assert!(validate(&unknown).is_empty());
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
        assert_eq!(attributes(&configured.diagnostics), ["base_url"]);
        let diag = configured.diagnostics.iter().next().expect("an error");
        assert!(
            diag.detail.contains("http://example.com"),
            "the error must quote the block's value: {}",
            diag.detail
        );
        assert!(!diag.detail.contains(ENV_BASE_URL), "{}", diag.detail);
    }

    #[test]
    fn a_base_url_from_the_environment_is_blamed_on_the_environment() {
        let env = |name: &str| (name == ENV_BASE_URL).then(|| "http://example.com".to_owned());
        let request = ConfigureRequest {
            terraform_version: "1.15.5".into(),
            config: config(&[token()]),
        };
        let configured = configure_client(request, Surroundings::default(), &env);
        assert!(configured.data.is_none());
        assert_eq!(attributes(&configured.diagnostics), ["base_url"]);
        let diag = configured.diagnostics.iter().next().expect("an error");
        assert!(
            diag.detail.contains("http://example.com"),
            "{}",
            diag.detail
        );
        assert!(
            diag.detail
                .contains("The provider block sets no base_url, so this value came from the"),
            "{}",
            diag.detail
        );
        assert!(diag.detail.contains(ENV_BASE_URL), "{}", diag.detail);
    }

    #[test]
    fn settings_the_block_leaves_out_come_from_the_environment() {
        let env = |name: &str| match name {
            ENV_BASE_URL => Some("http://127.0.0.1:9".to_owned()),
            ENV_ACCESS_TOKEN => Some("from-env".to_owned()),
            _ => None,
        };
        let request = ConfigureRequest {
            terraform_version: "1.15.5".into(),
            config: config(&[]),
        };
        let configured = configure_client(request, Surroundings::default(), &env);
        assert!(
            configured.diagnostics.is_empty(),
            "{:?}",
            configured.diagnostics
        );
        assert!(configured.data.is_some());
    }
}
