//! The tfplugin6 Provider service: decodes each request against the right
//! schema, hands it to the object that owns the type name, and encodes the
//! answer. Nothing here knows any particular provider.
//!
//! This file holds the registry of objects and the routing table; each RPC
//! family lives in its own file beside it.

mod actions;
mod apply;
mod codec;
mod data;
mod ephemeral;
mod guard;
mod lists;
mod resources;
mod schemas;
mod state_stores;

use super::delivery::Delivery;
use super::diag::{Diagnostic, Diagnostics};
use super::framework::{
    Action, Context, DataSource, EphemeralResource, ListResource, Provider, ProviderData, Resource,
};
use super::identity::IdentitySchema;
use super::lifecycle::{Lifeline, StopSignal};
use super::notices::{CarriesDiagnostics, Notices, deliver};
use super::proto::tfplugin6::{self as pb, provider_server};
use super::schema::{Block, Schema};
use super::value::Type;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use tonic::{Request, Response, Status, Streaming};

/// A schema with the value type derived from it once, not per call.
struct Typed<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

impl<T: ?Sized> Typed<T> {
    fn new(imp: Arc<T>, schema: Schema) -> Self {
        let ty = schema.block.value_type();
        Typed { imp, schema, ty }
    }
}

/// A managed resource with its identity schema, if it has one.
struct ManagedResource {
    typed: Typed<dyn Resource>,
    identity: Option<(IdentitySchema, Type)>,
}

pub struct Dispatch {
    provider: Arc<dyn Provider>,
    /// The `provider` block's schema (for its attributes' validators) and
    /// value type.
    provider_block: Block,
    provider_type: Type,
    resources: HashMap<&'static str, Arc<ManagedResource>>,
    data_sources: HashMap<&'static str, Typed<dyn DataSource>>,
    ephemerals: HashMap<&'static str, Typed<dyn EphemeralResource>>,
    lists: HashMap<&'static str, Typed<dyn ListResource>>,
    actions: HashMap<&'static str, Typed<dyn Action>>,
    schema_response: pb::get_provider_schema::Response,
    /// Mistakes in the provider's own declarations, found once at startup
    /// and reported with the schema, where Terraform shows them first.
    declaration_errors: Diagnostics,
    /// What the provider's configure produced, for every later call.
    provider_data: RwLock<Option<ProviderData>>,
    stop: StopSignal,
    /// Where applies run, detached from their connection (see `apply`).
    lifeline: Lifeline,
    /// Warnings for the next answer (see `notices`).
    notices: Notices,
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // PlanResourceChange is called for destroys too, which lets the
        // provider validate them; Terraform caches our schema across runs.
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: true,
    }
}

fn by_name<T: ?Sized>(
    objects: Vec<Arc<T>>,
    name: impl Fn(&T) -> &'static str,
    schema: impl Fn(&T) -> Schema,
) -> HashMap<&'static str, Typed<T>> {
    objects
        .into_iter()
        .map(|o| (name(&o), Typed::new(o.clone(), schema(&o))))
        .collect()
}

impl Dispatch {
    pub fn new(provider: Arc<dyn Provider>, stop: StopSignal, lifeline: Lifeline) -> Self {
        let provider_schema = provider.schema();
        let mut declaration_errors = Diagnostics::new();
        let resources: HashMap<_, _> = provider
            .resources()
            .into_iter()
            .map(|r| {
                let typed = Typed::new(r.clone(), r.schema());
                let identity = r.identity_schema().and_then(|identity| {
                    match identity.check_against(r.type_name(), &typed.schema.block) {
                        Ok(()) => {
                            let ty = identity.value_type();
                            Some((identity, ty))
                        }
                        Err(mistake) => {
                            declaration_errors.error("Invalid identity schema", mistake);
                            None
                        }
                    }
                });
                (r.type_name(), Arc::new(ManagedResource { typed, identity }))
            })
            .collect();
        let data_sources = by_name(provider.data_sources(), |d| d.type_name(), |d| d.schema());
        let ephemerals = by_name(
            provider.ephemeral_resources(),
            |e| e.type_name(),
            |e| e.schema(),
        );
        let lists = by_name(provider.list_resources(), |l| l.type_name(), |l| l.schema());
        for name in lists.keys() {
            if resources.get(name).is_none_or(|r| r.identity.is_none()) {
                declaration_errors.error(
                    "Invalid list resource",
                    format!(
                        "The list resource {name} needs a managed resource of the same type \
                         name with an identity schema."
                    ),
                );
            }
        }
        let actions = by_name(provider.actions(), |a| a.type_name(), |a| a.schema());
        let schema_response = schemas::provider_schema(
            &provider_schema,
            &resources,
            &data_sources,
            &ephemerals,
            &lists,
            &actions,
            &declaration_errors,
        );
        Dispatch {
            provider_type: provider_schema.block.value_type(),
            provider_block: provider_schema.block,
            provider,
            resources,
            data_sources,
            ephemerals,
            lists,
            actions,
            schema_response,
            declaration_errors,
            provider_data: RwLock::default(),
            stop,
            lifeline,
            notices: Notices::default(),
        }
    }

    fn context(&self) -> Context {
        Context {
            cancel: self.stop.current(),
            provider_data: self.provider_data().clone(),
            keep_alive: self.lifeline.keep_alive(),
            notices: self.notices.clone(),
            delivery: Delivery::default(),
        }
    }

    /// `answer` with the warnings waiting in `notices` added.
    fn noticed<R: CarriesDiagnostics>(&self, answer: R) -> R {
        deliver(&self.notices, answer)
    }

    fn provider_data(&self) -> std::sync::RwLockReadGuard<'_, Option<ProviderData>> {
        self.provider_data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn set_provider_data(&self, data: Option<ProviderData>) {
        *self
            .provider_data
            .write()
            .unwrap_or_else(PoisonError::into_inner) = data;
    }

    fn resource(&self, type_name: &str) -> Result<&Arc<ManagedResource>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name))
    }

    fn data_source(&self, type_name: &str) -> Result<&Typed<dyn DataSource>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name))
    }

    fn ephemeral(&self, type_name: &str) -> Result<&Typed<dyn EphemeralResource>, Diagnostics> {
        self.ephemerals
            .get(type_name)
            .ok_or_else(|| unknown_type("ephemeral resource", type_name))
    }

    fn list(&self, type_name: &str) -> Result<&Typed<dyn ListResource>, Diagnostics> {
        self.lists
            .get(type_name)
            .ok_or_else(|| unknown_type("list resource", type_name))
    }

    fn action(&self, type_name: &str) -> Result<&Typed<dyn Action>, Diagnostics> {
        self.actions
            .get(type_name)
            .ok_or_else(|| unknown_type("action", type_name))
    }
}

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {type_name:?}."),
    )
    .into()
}

type RpcResult<T> = Result<Response<T>, Status>;
type EventStream<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send>>;

/// The routing table: every RPC of the service, each handed to the file of
/// its family.
#[tonic::async_trait]
impl provider_server::Provider for Dispatch {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(self.metadata()))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(self.identity_schemas()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        Ok(Response::new(
            self.handle_validate_provider_config(request.into_inner()),
        ))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        Ok(Response::new(self.noticed(
            self.handle_configure_provider(request.into_inner()).await,
        )))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        Ok(Response::new(
            self.handle_validate_resource_config(request.into_inner()),
        ))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        Ok(Response::new(
            self.handle_upgrade_resource_state(request.into_inner()),
        ))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        Ok(Response::new(
            self.handle_upgrade_resource_identity(request.into_inner()),
        ))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        Ok(Response::new(self.noticed(
            self.handle_read_resource(request.into_inner()).await,
        )))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        Ok(Response::new(self.noticed(
            self.handle_plan_resource_change(request.into_inner()),
        )))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        Ok(Response::new(
            self.noticed(
                self.handle_apply_resource_change(request.into_inner())
                    .await,
            ),
        ))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        Ok(Response::new(
            self.noticed(
                self.handle_import_resource_state(request.into_inner())
                    .await,
            ),
        ))
    }

    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: codec::unsupported("Moving resource state between types").to_proto(),
            ..Default::default()
        }))
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> RpcResult<pb::generate_resource_config::Response> {
        Ok(Response::new(
            self.handle_generate_resource_config(request.into_inner()),
        ))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        Ok(Response::new(self.handle_validate_data_resource_config(
            request.into_inner(),
        )))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        Ok(Response::new(self.noticed(
            self.handle_read_data_source(request.into_inner()).await,
        )))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<pb::validate_ephemeral_resource_config::Response> {
        Ok(Response::new(
            self.handle_validate_ephemeral_resource_config(request.into_inner()),
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> RpcResult<pb::open_ephemeral_resource::Response> {
        Ok(Response::new(
            self.noticed(
                self.handle_open_ephemeral_resource(request.into_inner())
                    .await,
            ),
        ))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> RpcResult<pb::renew_ephemeral_resource::Response> {
        Ok(Response::new(
            self.noticed(
                self.handle_renew_ephemeral_resource(request.into_inner())
                    .await,
            ),
        ))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> RpcResult<pb::close_ephemeral_resource::Response> {
        Ok(Response::new(
            self.noticed(
                self.handle_close_ephemeral_resource(request.into_inner())
                    .await,
            ),
        ))
    }

    type ListResourceStream = EventStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> RpcResult<Self::ListResourceStream> {
        Ok(Response::new(
            self.handle_list_resource(request.into_inner()),
        ))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> RpcResult<pb::validate_list_resource_config::Response> {
        Ok(Response::new(self.handle_validate_list_resource_config(
            request.into_inner(),
        )))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> RpcResult<pb::validate_action_config::Response> {
        Ok(Response::new(
            self.handle_validate_action_config(request.into_inner()),
        ))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> RpcResult<pb::plan_action::Response> {
        Ok(Response::new(self.handle_plan_action(request.into_inner())))
    }

    type InvokeActionStream = EventStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> RpcResult<Self::InvokeActionStream> {
        Ok(Response::new(
            self.handle_invoke_action(request.into_inner()),
        ))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> RpcResult<pb::call_function::Response> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "this provider defines no function {:?}",
                    request.get_ref().name
                ),
                function_argument: None,
            }),
        }))
    }

    async fn validate_state_store_config(
        &self,
        _: Request<pb::validate_state_store::Request>,
    ) -> RpcResult<pb::validate_state_store::Response> {
        Err(state_stores::none())
    }

    async fn configure_state_store(
        &self,
        _: Request<pb::configure_state_store::Request>,
    ) -> RpcResult<pb::configure_state_store::Response> {
        Err(state_stores::none())
    }

    type ReadStateBytesStream = EventStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        _: Request<pb::read_state_bytes::Request>,
    ) -> RpcResult<Self::ReadStateBytesStream> {
        Err(state_stores::none())
    }

    async fn write_state_bytes(
        &self,
        _: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> RpcResult<pb::write_state_bytes::Response> {
        Err(state_stores::none())
    }

    async fn lock_state(
        &self,
        _: Request<pb::lock_state::Request>,
    ) -> RpcResult<pb::lock_state::Response> {
        Err(state_stores::none())
    }

    async fn unlock_state(
        &self,
        _: Request<pb::unlock_state::Request>,
    ) -> RpcResult<pb::unlock_state::Response> {
        Err(state_stores::none())
    }

    async fn get_states(
        &self,
        _: Request<pb::get_states::Request>,
    ) -> RpcResult<pb::get_states::Response> {
        Err(state_stores::none())
    }

    async fn delete_state(
        &self,
        _: Request<pb::delete_state::Request>,
    ) -> RpcResult<pb::delete_state::Response> {
        Err(state_stores::none())
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        tracing::debug!("StopProvider: cancelling work in flight");
        self.stop.stop();
        // The run is over: what it opened and did not close never will be.
        self.lifeline.detach(self.close_abandoned());
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests;
