//! The floor for our own schema: a provider with exactly
//! `parallel_api_key`'s schema, plan modifiers and identity, that answers
//! from config and state alone. No HTTP client, no API, no logging of its
//! own: what Terraform and the protocol layer cost for this schema, and so
//! the least the real provider could take. Built and run only by the
//! benchmark; never shipped.
//!
//! `PARALLEL_BENCH_FLOOR` (comma-separated) changes one part of what the
//! floor declares, so the benchmark can price that part in Terraform:
//! `all-objects` (also declare every other object of the real provider, so
//! GetProviderSchema is the real one), `no-descriptions`, `no-timeouts`
//! (drop the `timeouts` block), `no-identity`, and `api-wait`: create and
//! delete each wait as long as the real provider's round trip to the
//! emulator adds to ApplyResourceChange, without doing its work, to show
//! what that wait alone costs an apply or destroy.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use terraform_provider_parallel::PROVIDER_ADDRESS;
use terraform_provider_parallel::provider::{ParallelProvider, provider_schema};
use terraform_provider_parallel::resources::api_key::{self, ApiKeyResource};
use tfplugin::framework::{ConfigureRequest, Configured};
use tfplugin::server::{self, ServeOptions};
use tfplugin::{
    Action, ApplyOutcome, Block, Context, DataSource, Diagnostics, EphemeralResource,
    IdentitySchema, ListResource, Provider, Resource, Schema, Value,
};

pub const VARIANT_ENV: &str = "PARALLEL_BENCH_FLOOR";
/// What the real provider's HTTP round trip adds to ApplyResourceChange
/// against the local emulator (the profile section: 0.66 ms against the
/// floor's 0.06 ms, wall, on the provider's side of the socket).
const API_WAIT: Duration = Duration::from_micros(600);

/// Which part of the declarations is changed (see the module comment).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Variant {
    all_objects: bool,
    no_descriptions: bool,
    no_timeouts: bool,
    no_identity: bool,
    api_wait: bool,
}

impl Variant {
    fn parse(text: &str) -> Variant {
        let mut variant = Variant::default();
        for word in text.split(',').map(str::trim) {
            match word {
                "all-objects" => variant.all_objects = true,
                "no-descriptions" => variant.no_descriptions = true,
                "no-timeouts" => variant.no_timeouts = true,
                "no-identity" => variant.no_identity = true,
                "api-wait" => variant.api_wait = true,
                _ => {}
            }
        }
        variant
    }

    /// A sleep on a blocking thread: tokio's timer rounds up to whole
    /// milliseconds, and a sleep on the runtime's one thread would hold up
    /// every other request.
    async fn wait_for_the_api(self) {
        if self.api_wait {
            let _ = tokio::task::spawn_blocking(|| std::thread::sleep(API_WAIT)).await;
        }
    }

    fn schema(self, mut schema: Schema) -> Schema {
        if self.no_timeouts {
            schema.block.blocks.retain(|b| b.type_name != "timeouts");
        }
        if self.no_descriptions {
            strip_descriptions(&mut schema.block);
        }
        schema
    }
}

fn strip_descriptions(block: &mut Block) {
    block.description = "";
    for attribute in &mut block.attributes {
        attribute.description = "";
    }
    for nested in &mut block.blocks {
        strip_descriptions(&mut nested.block);
    }
}

struct FloorProvider {
    variant: Variant,
}

#[async_trait]
impl Provider for FloorProvider {
    fn type_name(&self) -> &'static str {
        "parallel"
    }

    /// The real provider block, so the same configuration is valid.
    fn schema(&self) -> Schema {
        self.variant.schema(provider_schema())
    }

    async fn configure(&self, _ctx: &Context, _request: ConfigureRequest) -> Configured {
        Configured::default()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        let mut resources: Vec<Arc<dyn Resource>> = vec![Arc::new(FloorKey {
            variant: self.variant,
        })];
        if self.variant.all_objects {
            resources.extend(
                ParallelProvider
                    .resources()
                    .into_iter()
                    .filter(|r| r.type_name() != api_key::TYPE_NAME),
            );
        }
        resources
    }

    // The other objects are declared, never called: the configuration
    // measured has only keys.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        self.real(ParallelProvider::data_sources)
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        self.real(ParallelProvider::ephemeral_resources)
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        self.real(ParallelProvider::list_resources)
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        self.real(ParallelProvider::actions)
    }
}

impl FloorProvider {
    fn real<T>(&self, objects: impl Fn(&ParallelProvider) -> Vec<T>) -> Vec<T> {
        if self.variant.all_objects {
            objects(&ParallelProvider)
        } else {
            Vec::new()
        }
    }
}

/// `parallel_api_key` without the API.
struct FloorKey {
    variant: Variant,
}

#[async_trait]
impl Resource for FloorKey {
    fn type_name(&self) -> &'static str {
        api_key::TYPE_NAME
    }

    /// The real schema: requires_replace, use_state_for_unknown and the
    /// timeouts block all apply.
    fn schema(&self) -> Schema {
        self.variant.schema(api_key::schema())
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        if self.variant.no_identity {
            return None;
        }
        ApiKeyResource.identity_schema()
    }

    /// Computed values of the same shape and length as the emulator's
    /// answer (a UUID, an `sk-` secret), derived from the configuration so
    /// that a run is repeatable.
    async fn create(&self, _ctx: &Context, planned: &Value, _config: &Value) -> ApplyOutcome {
        self.variant.wait_for_the_api().await;
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
        self.variant.wait_for_the_api().await;
        Diagnostics::new()
    }
}

fn main() -> ExitCode {
    let variant = Variant::parse(&std::env::var(VARIANT_ENV).unwrap_or_default());
    server::run(
        Arc::new(FloorProvider { variant }),
        ServeOptions {
            debug: false,
            provider_address: PROVIDER_ADDRESS.to_owned(),
            ..ServeOptions::default()
        },
        "parallel_bench_floor",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_change_only_what_they_name() {
        assert_eq!(Variant::parse(""), Variant::default());
        let variant = Variant::parse("no-timeouts, no-descriptions");
        assert!(variant.no_timeouts && variant.no_descriptions && !variant.no_identity);
        assert!(!variant.api_wait && Variant::parse("api-wait").api_wait);
        let plain = Variant::default().schema(api_key::schema());
        assert_eq!(
            plain.block.attributes.len(),
            api_key::schema().block.attributes.len()
        );
        assert!(plain.block.blocks.iter().any(|b| b.type_name == "timeouts"));
        let changed = variant.schema(api_key::schema());
        assert!(changed.block.blocks.is_empty());
        assert!(
            changed
                .block
                .attributes
                .iter()
                .all(|a| a.description.is_empty())
        );
        assert_eq!(changed.block.attributes.len(), plain.block.attributes.len());
    }

    #[test]
    fn all_objects_declares_the_real_providers_objects() {
        let floor = FloorProvider {
            variant: Variant::parse("all-objects"),
        };
        assert_eq!(floor.resources().len(), ParallelProvider.resources().len());
        assert_eq!(
            floor.data_sources().len(),
            ParallelProvider.data_sources().len()
        );
        let plain = FloorProvider {
            variant: Variant::default(),
        };
        assert_eq!(plain.resources().len(), 1);
        assert!(plain.data_sources().is_empty());
    }
}
