//! The typed abstraction a provider is written against. Each resource, data
//! source, ephemeral resource, list resource or action is one value
//! implementing one trait; the dispatch layer finds it by type name, so
//! adding one never touches the protocol code.

pub use super::action::{Action, Progress};
pub use super::context::{Context, ProviderData};
pub use super::delivery::Delivery;
use super::diag::{Diagnostic, Diagnostics};
use super::identity::IdentitySchema;
pub use super::list::{ListItem, ListRequest, ListResource, ListSink};
use super::schema::Schema;
use super::value::Value;
use async_trait::async_trait;
use std::any::Any;
use std::sync::Arc;
use std::time::SystemTime;

/// What `Provider::configure` is given.
pub struct ConfigureRequest {
    /// The version of the Terraform that is calling, as it reports itself
    /// (`1.14.0`, say).
    pub terraform_version: String,
    /// The `provider` block, decoded against `Provider::schema`. Values may
    /// be unknown when they depend on resources not created yet.
    pub config: Value,
}

/// The outcome of `Provider::configure`.
#[derive(Default)]
pub struct Configured {
    /// Handed to every later call in `Context::provider_data`. `None`
    /// leaves the provider unconfigured (for a configuration not known
    /// yet: Terraform configures again at apply).
    pub data: Option<ProviderData>,
    /// Reported to Terraform; an error fails the run.
    pub diagnostics: Diagnostics,
}

impl Configured {
    /// Configured with `data` (later read back with
    /// `Context::provider_data::<T>()`), and no diagnostics.
    pub fn with(data: impl Any + Send + Sync) -> Self {
        Configured {
            data: Some(Arc::new(data)),
            diagnostics: Diagnostics::new(),
        }
    }

    /// Not configured, with the diagnostics that say why.
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
    /// Opaque bytes Terraform stores beside the new state (the resource's
    /// private data). The framework passes them through refreshes and
    /// plans unchanged; no `Resource` method is handed them back. Empty by
    /// default.
    pub private: Vec<u8>,
    /// Reported to Terraform; an error fails the apply, but `new_state` is
    /// still recorded.
    pub diagnostics: Diagnostics,
}

impl ApplyOutcome {
    /// The object exists with this state; no diagnostics.
    pub fn state(new_state: Value) -> Self {
        ApplyOutcome {
            new_state: Some(new_state),
            ..Self::default()
        }
    }

    /// The object does not exist (any more); no diagnostics.
    pub fn gone() -> Self {
        Self::default()
    }

    /// Diagnostics and no state. After a create that means no object;
    /// after an update with an error the framework keeps the prior state,
    /// since the object is still there.
    pub fn failed(diagnostics: impl Into<Diagnostics>) -> Self {
        ApplyOutcome {
            diagnostics: diagnostics.into(),
            ..Self::default()
        }
    }
}

/// What `Resource::modify_plan` is given besides the plan itself.
pub struct PlanRequest<'a> {
    /// Null when the object is about to be created.
    pub prior_state: &'a Value,
    /// The resource's configuration; values may be unknown.
    pub config: &'a Value,
    /// True when the generic plan already decided on a replacement.
    pub replacing: bool,
    /// The private data Terraform holds beside the prior state: what the
    /// last refresh (`Resource::private_after_read`) or apply left there.
    /// Terraform plans again at apply, from the same prior state and
    /// private data, and requires the same plan; so a plan that depends on
    /// something outside Terraform (the time, say) reads it from here.
    pub prior_private: &'a [u8],
}

/// What an import names: the ID given to `terraform import` or an `import`
/// block's `id`, or (Terraform 1.12 and later) an `import` block's
/// `identity`, already checked against the identity schema.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportRequest {
    /// By ID, a string whose meaning is the resource's own.
    Id(String),
    /// By identity: an object of the resource's identity type in which every
    /// attribute required for import is set and known.
    Identity(Value),
}

/// What `EphemeralResource::open` produced.
pub struct EphemeralOpened {
    /// The value, conforming to the ephemeral resource's schema; Terraform
    /// hands it to whatever refers to it and never stores it.
    pub result: Value,
    /// Opaque bytes handed back to `renew` and `close` (a lease ID, say).
    pub private: Vec<u8>,
    /// When Terraform should call `renew`, if ever.
    pub renew_at: Option<SystemTime>,
}

/// A provider: its own configuration, and the objects it serves. Hand one
/// to `server::run`.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's type name, the prefix of its resource type names.
    fn type_name(&self) -> &'static str;

    /// The schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Offline checks of the `provider` block: values may still be
    /// unknown. The default accepts everything.
    fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Builds what the objects need (an API client, say) from the
    /// provider's configuration.
    async fn configure(&self, ctx: &Context, request: ConfigureRequest) -> Configured;

    /// The managed resources. Asked once, when the server starts; each is
    /// found by its `type_name` from then on.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// The data sources; none by default.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    /// The ephemeral resources; none by default.
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

/// A managed resource type: objects whose life Terraform plans and the
/// provider carries out. The framework runs the generic plan (the schema's
/// plan modifiers and defaults) before `modify_plan`, decides from the
/// prior and planned states whether an apply is a create, an update or a
/// delete, and runs each validation, plan change, apply, refresh, import
/// and upgrade behind a panic guard, which turns a panic into an error
/// diagnostic.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The resource type name, such as `hello_greeting`: by convention the
    /// provider's type name, an underscore, then the resource's own name.
    fn type_name(&self) -> &'static str;

    /// The schema of the resource's objects. Read once, when the server
    /// starts.
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

    /// Creates the object that `planned` describes (`config` is the
    /// configuration it came from). The state returned should fill in the
    /// computed attributes the plan left unknown: unknowns left in it
    /// become null.
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

    /// Deletes the object whose state is `prior`. An error keeps the
    /// object in state, so that a later apply can try again.
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

    /// An update finished after Terraform had gone, so `new_state` never
    /// reaches any state: Terraform keeps `prior`. What the update made
    /// remotely that `prior` does not know of exists with nobody knowing;
    /// as for `create_undelivered`, this is the one chance to record it.
    /// The default only logs.
    fn update_undelivered(&self, _ctx: &Context, _prior: &Value, _new_state: &Value) {
        tracing::warn!(
            type_name = self.type_name(),
            "an update finished after Terraform had gone; its new state is in no state"
        );
    }

    /// The private data Terraform stores beside the state a refresh
    /// returned (`state`), given what it held (`private`). Terraform hands
    /// it to the plan that follows (`PlanRequest::prior_private`) and, for
    /// a saved plan, keeps it in the plan file, so the plan it makes again
    /// at apply sees it too. The default keeps it unchanged.
    fn private_after_read(&self, _state: &Value, private: Vec<u8>) -> Vec<u8> {
        private
    }

    /// Refresh. `Ok(None)` says the object is gone. The default serves the
    /// state as it is, for APIs that cannot read an object back.
    async fn read(&self, _ctx: &Context, current: Value) -> Result<Option<Value>, Diagnostics> {
        Ok(Some(current))
    }

    /// The state of an existing object that an import names; a refresh
    /// follows it. The default refuses every import.
    async fn import(&self, _ctx: &Context, _request: ImportRequest) -> Result<Value, Diagnostics> {
        Err(import_refused(self.type_name()))
    }

    /// Rewrites a state stored under an older schema version (as JSON) into
    /// the current shape. The default accepts only the current version.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        only_current_state_version(self.type_name(), &self.schema(), version).map(|()| state)
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
        only_current_identity_version(self.type_name(), current, version).map(|()| identity)
    }
}

/// The default import: none.
pub(crate) fn import_refused(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Import is not supported",
        format!("The {type_name} resource cannot be imported."),
    )
    .into()
}

/// The default identity upgrade: none.
pub(crate) fn only_current_identity_version(
    type_name: &str,
    current: i64,
    version: i64,
) -> Result<(), Diagnostics> {
    only_current_version("identity", "version", type_name, current, version)
}

/// The default state upgrade: none. A state of another version than the
/// schema's is an error that says which provider version wrote it.
pub(crate) fn only_current_state_version(
    type_name: &str,
    schema: &Schema,
    version: i64,
) -> Result<(), Diagnostics> {
    only_current_version(
        "state",
        "schema version",
        type_name,
        schema.version,
        version,
    )
}

fn only_current_version(
    what: &str,
    numbered: &str,
    type_name: &str,
    current: i64,
    version: i64,
) -> Result<(), Diagnostics> {
    if version == current {
        return Ok(());
    }
    Err(Diagnostic::error(
        format!("Unsupported {what} version"),
        format!(
            "The stored {what} of this {type_name} is {numbered} {version}; this provider \
             understands version {current}. Use the provider version that wrote it."
        ),
    )
    .into())
}

/// A data source: something that exists outside Terraform, read from a
/// configuration each time Terraform needs it, never managed.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// The data source type name, prefixed like a resource's.
    fn type_name(&self) -> &'static str;

    /// The schema of the data source's configuration and result.
    fn schema(&self) -> Schema;

    /// Offline checks of a configuration: values may still be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Reads the data: the whole object, the configuration with its
    /// computed attributes filled in.
    async fn read(&self, ctx: &Context, config: &Value) -> Result<Value, Diagnostics>;
}

/// An ephemeral resource (Terraform 1.10): a value opened for the length of
/// one Terraform run and never stored in a plan or a state, such as a
/// short-lived credential.
#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    /// The ephemeral resource type name, prefixed like a resource's.
    fn type_name(&self) -> &'static str;

    /// The schema of the configuration and of the value opened.
    fn schema(&self) -> Schema;

    /// Offline checks of a configuration: values may still be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Opens the value that `config` describes.
    async fn open(&self, ctx: &Context, config: &Value) -> Result<EphemeralOpened, Diagnostics>;

    /// Called at the `renew_at` time given by `open` (or by the previous
    /// renewal), with `open`'s private bytes; returns when to renew next,
    /// if ever. The default renews nothing and asks for no more renewals.
    async fn renew(
        &self,
        _ctx: &Context,
        _private: &[u8],
    ) -> Result<Option<SystemTime>, Diagnostics> {
        Ok(None)
    }

    /// Called when Terraform no longer needs the value, with `open`'s
    /// private bytes. The default does nothing.
    async fn close(&self, _ctx: &Context, _private: &[u8]) -> Diagnostics {
        Diagnostics::new()
    }

    /// The run is over (Terraform sent StopProvider or Shutdown, or is
    /// gone) and whatever this process opened and nobody closed never will
    /// be: Terraform skips `close` when anything upstream of it failed.
    /// Release it here. May be called more than once. The default does
    /// nothing.
    async fn close_abandoned(&self, _ctx: &Context) {}
}
