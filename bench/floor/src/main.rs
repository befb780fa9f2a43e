//! The floor for our own schema: a provider with exactly
//! `parallel_api_key`'s schema, plan modifiers and identity, that answers
//! from config and state alone. No HTTP client, no API, no logging of its
//! own: what Terraform and the protocol layer cost for this schema, and so
//! the least the real provider could take. Built and run only by the
//! benchmark; never shipped.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use terraform_provider_parallel::PROVIDER_ADDRESS;
use terraform_provider_parallel::provider::provider_schema;
use terraform_provider_parallel::resources::api_key::{self, ApiKeyResource};
use tfplugin::framework::{ConfigureRequest, Configured};
use tfplugin::server::{self, ServeOptions};
use tfplugin::{
    ApplyOutcome, Context, Diagnostics, IdentitySchema, Provider, Resource, Schema, Value,
};

struct FloorProvider;

#[async_trait]
impl Provider for FloorProvider {
    fn type_name(&self) -> &'static str {
        "parallel"
    }

    /// The real provider block, so the same configuration is valid.
    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(&self, _ctx: &Context, _request: ConfigureRequest) -> Configured {
        Configured::default()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(FloorKey)]
    }
}

/// `parallel_api_key` without the API.
struct FloorKey;

#[async_trait]
impl Resource for FloorKey {
    fn type_name(&self) -> &'static str {
        api_key::TYPE_NAME
    }

    /// The real schema: requires_replace, use_state_for_unknown and the
    /// timeouts block all apply.
    fn schema(&self) -> Schema {
        api_key::schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        ApiKeyResource.identity_schema()
    }

    /// Computed values of the same shape and length as the emulator's
    /// answer (a UUID, an `sk-` secret), derived from the configuration so
    /// that a run is repeatable.
    async fn create(&self, _ctx: &Context, planned: &Value, _config: &Value) -> ApplyOutcome {
        let mut fields = match planned {
            Value::Object(fields) => fields.clone(),
            _ => Default::default(),
        };
        let seed = {
            let mut hasher = DefaultHasher::new();
            format!("{:?}", planned.field("app_id")).hash(&mut hasher);
            format!("{:?}", planned.field("api_key_name")).hash(&mut hasher);
            hasher.finish()
        };
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            seed >> 32,
            (seed >> 16) & 0xffff,
            seed & 0xfff,
            (seed >> 4) & 0xfff,
            seed & 0xffff_ffff_ffff
        );
        let secret = format!("sk-floor{seed:032x}");
        let display = format!("sk-***{}", &secret[secret.len() - 4..]);
        for (name, value) in [
            ("id", Value::string(id.clone())),
            ("api_key_id", Value::string(id)),
            ("app_name", Value::string("bench")),
            (
                "created_by_user_id",
                Value::string("00000000-0000-4000-8000-000000000001"),
            ),
            ("created_by_user_email", Value::string("bench@example.com")),
            ("display_value", Value::string(display)),
            ("raw_api_key", Value::string(secret)),
            ("created_at", Value::number(1_731_000_000)),
        ] {
            fields.insert(name.to_owned(), value);
        }
        ApplyOutcome::state(Value::Object(fields))
    }

    async fn delete(&self, _ctx: &Context, _prior: &Value) -> Diagnostics {
        Diagnostics::new()
    }
}

fn main() -> ExitCode {
    server::run(
        Arc::new(FloorProvider),
        ServeOptions {
            debug: false,
            provider_address: PROVIDER_ADDRESS.to_owned(),
        },
        "parallel_bench_floor",
    )
}
