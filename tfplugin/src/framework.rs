//! The typed abstraction a provider is written against. Each resource, data
//! source, ephemeral resource, list resource or action is one value
//! implementing one trait; the dispatch layer finds it by type name, so
//! adding one never touches the protocol code.

pub use super::action::{Action, Progress};
use super::diag::{Diagnostic, Diagnostics};
use super::identity::IdentitySchema;
pub use super::list::{ListItem, ListRequest, ListResource, ListSink};
use super::schema::Schema;
use super::value::Value;
use async_trait::async_trait;
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// What a provider's configuration produced (typically its API client),
/// handed by the framework to every object it calls afterwards, as
/// terraform-plugin-framework's `ProviderData` is.
pub type ProviderData = Arc<dyn Any + Send + Sync>;

/// What every call can see of its surroundings.
#[derive(Clone, Default)]
pub struct Context {
    /// Fires when Terraform asks the provider to stop (Ctrl-C): long waits
    /// and requests should give up promptly.
    pub cancel: CancellationToken,
    /// The provider's configured data, once `Provider::configure` has
    /// given it.
    pub provider_data: Option<ProviderData>,
}

impl Context {
    /// The provider's configured data as the type the provider gave. An
    /// error diagnostic when the provider is not configured, which happens
    /// when its configuration was not known yet (it depends on a resource
    /// that is not created).
    pub fn provider_data<T: Any + Send + Sync>(&self) -> Result<&T, Diagnostics> {
        self.provider_data
            .as_deref()
            .and_then(|data| data.downcast_ref::<T>())
            .ok_or_else(|| {
                Diagnostic::error(
                    "Provider not configured",
                    "The provider's configuration was not known when this object needed it \
                     (for example, a provider argument depends on a resource that is not \
                     created yet). Make the provider configuration known before apply.",
                )
                .into()
            })
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("cancel", &self.cancel)
            .field("configured", &self.provider_data.is_some())
            .finish()
    }
}

pub struct ConfigureRequest {
    pub terraform_version: String,
    pub config: Value,
}

/// The outcome of `Provider::configure`.
#[derive(Default)]
pub struct Configured {
    /// Handed to every later call in `Context::provider_data`. `None`
    /// leaves the provider unconfigured (for a configuration not known
    /// yet: Terraform configures again at apply).
    pub data: Option<ProviderData>,
    pub diagnostics: Diagnostics,
}

impl Configured {
    pub fn with(data: impl Any + Send + Sync) -> Self {
        Configured {
            data: Some(Arc::new(data)),
            diagnostics: Diagnostics::new(),
        }
    }

    pub fn failed(diagnostics: impl Into<Diagnostics>) -> Self {
        Configured {
            data: None,
            diagnostics: diagnostics.into(),
        }
    }
}

/// The outcome of a create, update or delete: a new state and diagnostics
/// *together*, because a remote object that was created must reach the
/// state even when something after its creation failed.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    /// `None` means the object does not exist (after a delete, or a create
    /// that did nothing).
    pub new_state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

impl ApplyOutcome {
    pub fn state(new_state: Value) -> Self {
        ApplyOutcome {
            new_state: Some(new_state),
            ..Self::default()
        }
    }

    pub fn gone() -> Self {
        Self::default()
    }

    pub fn failed(diagnostics: impl Into<Diagnostics>) -> Self {
        ApplyOutcome {
            diagnostics: diagnostics.into(),
            ..Self::default()
        }
    }
}

pub struct PlanRequest<'a> {
    /// Null when the object is about to be created.
    pub prior_state: &'a Value,
    pub config: &'a Value,
    /// True when the generic plan already decided on a replacement.
    pub replacing: bool,
}

/// What an import names: the ID given to `terraform import` or an `import`
/// block's `id`, or (Terraform 1.12 and later) an `import` block's
/// `identity`, already checked against the identity schema.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportRequest {
    Id(String),
    Identity(Value),
}

pub struct EphemeralOpened {
    pub result: Value,
    pub private: Vec<u8>,
    pub renew_at: Option<SystemTime>,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's type name, the prefix of its resource type names.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Builds what the objects need (an API client, say) from the
    /// provider's configuration.
    async fn configure(&self, ctx: &Context, request: ConfigureRequest) -> Configured;

    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        Vec::new()
    }

    /// List resources for `terraform query` (Terraform 1.14). Each has the
    /// type name of one of `resources()`, whose schema and identity its
    /// results carry.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }

    /// Actions, invoked by `terraform apply -invoke=action.TYPE.NAME`
    /// (Terraform 1.14).
    fn actions(&self) -> Vec<Arc<dyn Action>> {
        Vec::new()
    }
}

#[async_trait]
pub trait Resource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// The resource's identity (Terraform 1.12). Each identity attribute is
    /// a resource attribute of the same name and type; the framework reads
    /// the identity off every state it returns.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Offline checks of a configuration: values may still be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjusts the plan the generic rules produced (see `plan.rs`).
    fn modify_plan(&self, _request: &PlanRequest<'_>, _planned: &mut Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn create(&self, ctx: &Context, planned: &Value, config: &Value) -> ApplyOutcome;

    /// In-place update; the default accepts the plan as the new state, which
    /// suits resources whose every remote-facing attribute forces
    /// replacement.
    async fn update(
        &self,
        _ctx: &Context,
        _prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> ApplyOutcome {
        ApplyOutcome::state(planned.clone())
    }

    async fn delete(&self, ctx: &Context, prior: &Value) -> Diagnostics;

    /// A create finished after Terraform had gone (killed, or its
    /// connection closed under the call), so `new_state` never reaches any
    /// state: whatever it describes exists remotely with nobody knowing.
    /// This is the resource's one chance to leave a record for a person
    /// (it runs on the way to the process's exit, so keep it short and
    /// synchronous). The default only logs.
    fn create_undelivered(&self, _ctx: &Context, _new_state: &Value) {
        tracing::warn!(
            type_name = self.type_name(),
            "a create finished after Terraform had gone; its object is in no state"
        );
    }

    /// Refresh. `Ok(None)` says the object is gone. The default serves the
    /// state as it is, for APIs that cannot read an object back.
    async fn read(&self, _ctx: &Context, current: Value) -> Result<Option<Value>, Diagnostics> {
        Ok(Some(current))
    }

    async fn import(&self, _ctx: &Context, _request: ImportRequest) -> Result<Value, Diagnostics> {
        Err(Diagnostic::error(
            "Import is not supported",
            format!("The {} resource cannot be imported.", self.type_name()),
        )
        .into())
    }

    /// Rewrites a state stored under an older schema version (as JSON) into
    /// the current shape. The default accepts only the current version.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.schema().version;
        if version == current {
            Ok(state)
        } else {
            Err(Diagnostic::error(
                "Unsupported state version",
                format!(
                    "The stored state of this {} is schema version {version}; this provider \
                     understands version {current}. Use the provider version that wrote it.",
                    self.type_name()
                ),
            )
            .into())
        }
    }

    /// Rewrites an identity stored under an older identity version (as
    /// JSON) into the current shape. The default accepts only the current
    /// version.
    fn upgrade_identity(
        &self,
        version: i64,
        identity: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.identity_schema().map_or(0, |s| s.version);
        if version == current {
            Ok(identity)
        } else {
            Err(Diagnostic::error(
                "Unsupported identity version",
                format!(
                    "The stored identity of this {} is version {version}; this provider \
                     understands version {current}. Use the provider version that wrote it.",
                    self.type_name()
                ),
            )
            .into())
        }
    }
}

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn read(&self, ctx: &Context, config: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn open(&self, ctx: &Context, config: &Value) -> Result<EphemeralOpened, Diagnostics>;

    async fn renew(
        &self,
        _ctx: &Context,
        _private: &[u8],
    ) -> Result<Option<SystemTime>, Diagnostics> {
        Ok(None)
    }

    async fn close(&self, _ctx: &Context, _private: &[u8]) -> Diagnostics {
        Diagnostics::new()
    }
}
