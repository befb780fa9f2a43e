//! The tfplugin6 Provider service: decodes each request against the right
//! schema, hands it to the resource, data source or ephemeral resource that
//! owns the type name, and encodes the answer. Nothing here knows any
//! particular provider.

use super::diag::{Diagnostic, Diagnostics};
use super::framework::{
    ConfigureRequest, Context, DataSource, EphemeralResource, PlanRequest, Provider, Resource,
};
use super::lifecycle::StopSignal;
use super::plan;
use super::proto::tfplugin6::{self as pb, provider_server};
use super::schema::Schema;
use super::value::{Type, Value};
use super::{json, msgpack};
use futures_util::FutureExt;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::SystemTime;
use tonic::{Request, Response, Status};

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

pub struct Dispatch {
    provider: Arc<dyn Provider>,
    provider_type: Type,
    resources: HashMap<&'static str, Typed<dyn Resource>>,
    data_sources: HashMap<&'static str, Typed<dyn DataSource>>,
    ephemerals: HashMap<&'static str, Typed<dyn EphemeralResource>>,
    schema_response: pb::get_provider_schema::Response,
    stop: StopSignal,
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // PlanResourceChange is called for destroys too, which lets the
        // provider validate them; Terraform caches our schema across runs.
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
    }
}

impl Dispatch {
    pub fn new(provider: Arc<dyn Provider>, stop: StopSignal) -> Self {
        let provider_schema = provider.schema();
        let resources: HashMap<_, _> = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), Typed::new(r.clone(), r.schema())))
            .collect();
        let data_sources: HashMap<_, _> = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), Typed::new(d.clone(), d.schema())))
            .collect();
        let ephemerals: HashMap<_, _> = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| (e.type_name(), Typed::new(e.clone(), e.schema())))
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(provider_schema.to_proto()),
            resource_schemas: resources
                .iter()
                .map(|(name, r)| ((*name).to_owned(), r.schema.to_proto()))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(name, d)| ((*name).to_owned(), d.schema.to_proto()))
                .collect(),
            ephemeral_resource_schemas: ephemerals
                .iter()
                .map(|(name, e)| ((*name).to_owned(), e.schema.to_proto()))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        Dispatch {
            provider_type: provider_schema.block.value_type(),
            provider,
            resources,
            data_sources,
            ephemerals,
            schema_response,
            stop,
        }
    }

    fn context(&self) -> Context {
        Context {
            cancel: self.stop.current(),
        }
    }

    fn resource(&self, type_name: &str) -> Result<&Typed<dyn Resource>, Diagnostics> {
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
}

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} named {type_name:?}."),
    )
    .into()
}

fn decode(value: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty).map_err(|e| e.to_string())
    } else if !value.json.is_empty() {
        json::decode(&value.json, ty).map_err(|e| e.to_string())
    } else {
        Ok(Value::Null)
    };
    decoded.map_err(|err| {
        Diagnostic::error(
            "Unreadable value from Terraform",
            format!("The {what} could not be decoded: {err}. This is a bug in the provider or in Terraform."),
        )
        .into()
    })
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    match msgpack::encode(value, ty) {
        Ok(bytes) => Ok(pb::DynamicValue {
            msgpack: bytes,
            json: Vec::new(),
        }),
        Err(err) => Err(Diagnostic::error(
            "Provider produced an unencodable value",
            format!("{err}. This is a bug in the provider."),
        )
        .into()),
    }
}

/// Runs resource code so that a bug in it becomes an error diagnostic
/// instead of a crashed plugin.
async fn guarded<T>(
    what: &str,
    future: impl Future<Output = T>,
    on_panic: impl FnOnce(Diagnostics) -> T,
) -> T {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(operation = what, "provider code panicked");
            on_panic(
                Diagnostic::error(
                    "Provider internal error",
                    format!(
                        "The provider failed unexpectedly during {what}. Please report this bug; \
                         run with TF_LOG=DEBUG for details."
                    ),
                )
                .into(),
            )
        }
    }
}

fn diags<T>(result: Result<T, Diagnostics>) -> (Option<T>, Vec<pb::Diagnostic>) {
    match result {
        Ok(value) => (Some(value), Vec::new()),
        Err(diags) => (None, diags.to_proto()),
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl provider_server::Provider for Dispatch {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            resources: self
                .resources
                .keys()
                .map(|n| m::ResourceMetadata {
                    type_name: (*n).to_owned(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|n| m::DataSourceMetadata {
                    type_name: (*n).to_owned(),
                })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: self
                .ephemerals
                .keys()
                .map(|n| m::EphemeralMetadata {
                    type_name: (*n).to_owned(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let request = request.into_inner();
        let result = decode(
            request.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        )
        .and_then(|config| {
            let diags = self.provider.validate_config(&config);
            if diags.is_empty() { Ok(()) } else { Err(diags) }
        });
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags(result).1,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ValidateResourceConfig");
        let result = self.resource(&request.type_name).and_then(|r| {
            let config = decode(request.config.as_ref(), &r.ty, "resource configuration")?;
            let diags = r.imp.validate(&config);
            if diags.is_empty() { Ok(()) } else { Err(diags) }
        });
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags(result).1,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ValidateDataResourceConfig");
        let result = self.data_source(&request.type_name).and_then(|d| {
            let config = decode(request.config.as_ref(), &d.ty, "data source configuration")?;
            let diags = d.imp.validate(&config);
            if diags.is_empty() { Ok(()) } else { Err(diags) }
        });
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags(result).1,
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "UpgradeResourceState");
        let result = self.resource(&request.type_name).and_then(|r| {
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "This state was written in Terraform's legacy flatmap format, which this \
                     provider never wrote. Remove the resource from state and recreate it.",
                )
                .into());
            }
            let upgraded = upgrade_state(r, request.version, &raw.json)?;
            encode(&upgraded, &r.ty)
        });
        let (upgraded_state, diagnostics) = diags(result);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let request = request.into_inner();
        tracing::debug!(terraform_version = %request.terraform_version, "ConfigureProvider");
        let ctx = self.context();
        let diagnostics = match decode(
            request.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        ) {
            Err(diags) => diags,
            Ok(config) => {
                let configure = self.provider.configure(
                    &ctx,
                    ConfigureRequest {
                        terraform_version: request.terraform_version,
                        config,
                    },
                );
                guarded("provider configuration", configure, |d| d).await
            }
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ReadResource");
        let ctx = self.context();
        let result = async {
            let r = self.resource(&request.type_name)?;
            let current = decode(request.current_state.as_ref(), &r.ty, "current state")?;
            let read = guarded("refresh", r.imp.read(&ctx, current), Err).await?;
            encode(&read.unwrap_or(Value::Null), &r.ty)
        }
        .await;
        let (new_state, diagnostics) = diags(result);
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics,
            private: request.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "PlanResourceChange");
        let result = self.resource(&request.type_name).and_then(|r| {
            let prior = decode(request.prior_state.as_ref(), &r.ty, "prior state")?;
            let proposed = decode(request.proposed_new_state.as_ref(), &r.ty, "proposed state")?;
            let config = decode(request.config.as_ref(), &r.ty, "configuration")?;
            let mut generic = plan::plan(&r.schema.block, &prior, &proposed, &config);
            let mut warnings = Diagnostics::new();
            if !generic.planned.is_null() {
                let plan_request = PlanRequest {
                    prior_state: &prior,
                    config: &config,
                    replacing: !generic.requires_replace.is_empty(),
                };
                warnings = r.imp.modify_plan(&plan_request, &mut generic.planned);
                if warnings.has_errors() {
                    return Err(warnings);
                }
            }
            let planned = encode(&generic.planned, &r.ty)?;
            Ok((planned, generic.requires_replace, warnings))
        });
        let (planned_state, requires_replace, diagnostics) = match result {
            Ok((state, replace, warnings)) => (
                Some(state),
                replace.iter().map(|p| p.to_proto()).collect(),
                warnings.to_proto(),
            ),
            Err(diags) => (None, Vec::new(), diags.to_proto()),
        };
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private: request.prior_private,
            diagnostics,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ApplyResourceChange");
        let ctx = self.context();
        let response = match self.resource(&request.type_name) {
            Err(diags) => pb::apply_resource_change::Response {
                diagnostics: diags.to_proto(),
                ..Default::default()
            },
            Ok(r) => apply(r, &ctx, request).await,
        };
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ImportResourceState");
        let ctx = self.context();
        let result = async {
            let r = self.resource(&request.type_name)?;
            let state = guarded("import", r.imp.import(&ctx, &request.id), Err).await?;
            Ok(pb::import_resource_state::ImportedResource {
                type_name: request.type_name.clone(),
                state: Some(encode(&state, &r.ty)?),
                private: Vec::new(),
            })
        }
        .await;
        let (imported, diagnostics) = diags(result);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported.into_iter().collect(),
            diagnostics,
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: unsupported("Moving resource state between types").to_proto(),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ReadDataSource");
        let ctx = self.context();
        let result = async {
            let d = self.data_source(&request.type_name)?;
            let config = decode(request.config.as_ref(), &d.ty, "configuration")?;
            let state = guarded("data source read", d.imp.read(&ctx, &config), Err).await?;
            encode(&state, &d.ty)
        }
        .await;
        let (state, diagnostics) = diags(result);
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics,
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<pb::validate_ephemeral_resource_config::Response> {
        let request = request.into_inner();
        let result = self.ephemeral(&request.type_name).and_then(|e| {
            let config = decode(request.config.as_ref(), &e.ty, "configuration")?;
            let diags = e.imp.validate(&config);
            if diags.is_empty() { Ok(()) } else { Err(diags) }
        });
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags(result).1,
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> RpcResult<pb::open_ephemeral_resource::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "OpenEphemeralResource");
        let ctx = self.context();
        let result = async {
            let e = self.ephemeral(&request.type_name)?;
            let config = decode(request.config.as_ref(), &e.ty, "configuration")?;
            let opened = guarded("ephemeral open", e.imp.open(&ctx, &config), Err).await?;
            Ok((
                encode(&opened.result, &e.ty)?,
                opened.private,
                opened.renew_at,
            ))
        }
        .await;
        let (opened, diagnostics) = diags(result);
        let mut response = pb::open_ephemeral_resource::Response {
            diagnostics,
            ..Default::default()
        };
        if let Some((value, private, renew_at)) = opened {
            response.result = Some(value);
            response.private = Some(private);
            response.renew_at = renew_at.map(timestamp);
        }
        Ok(Response::new(response))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> RpcResult<pb::renew_ephemeral_resource::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let private = request.private.unwrap_or_default();
        let result = async {
            let e = self.ephemeral(&request.type_name)?;
            guarded("ephemeral renew", e.imp.renew(&ctx, &private), Err).await
        }
        .await;
        let (renew_at, diagnostics) = diags(result);
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics,
            renew_at: renew_at.flatten().map(timestamp),
            private: Some(private),
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> RpcResult<pb::close_ephemeral_resource::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let private = request.private.unwrap_or_default();
        let diagnostics = match self.ephemeral(&request.type_name) {
            Err(diags) => diags,
            Ok(e) => guarded("ephemeral close", e.imp.close(&ctx, &private), |d| d).await,
        };
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics.to_proto(),
        }))
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

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        tracing::debug!("StopProvider: cancelling work in flight");
        self.stop.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

fn unsupported(what: &str) -> Diagnostics {
    Diagnostic::error(
        format!("{what} is not supported"),
        format!("{what} is not supported by this provider."),
    )
    .into()
}

fn timestamp(at: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(at)
}

/// Reads a stored state. The current schema version takes the direct path
/// (it runs for every resource on every plan); older versions go through
/// the resource's upgrade hook as JSON first.
fn upgrade_state(r: &Typed<dyn Resource>, version: i64, raw: &[u8]) -> Result<Value, Diagnostics> {
    let unreadable = |err: String| -> Diagnostics {
        Diagnostic::error(
            "Unreadable stored state",
            format!("The stored state could not be read: {err}."),
        )
        .into()
    };
    if version == r.schema.version {
        return json::decode_state(raw, &r.ty).map_err(|e| unreadable(e.to_string()));
    }
    let stored: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| unreadable(e.to_string()))?;
    let upgraded = r.imp.upgrade_state(version, stored)?;
    let bytes = serde_json::to_vec(&upgraded).map_err(|e| unreadable(e.to_string()))?;
    json::decode_state(&bytes, &r.ty).map_err(|e| unreadable(e.to_string()))
}

async fn apply(
    r: &Typed<dyn Resource>,
    ctx: &Context,
    request: pb::apply_resource_change::Request,
) -> pb::apply_resource_change::Response {
    let decoded = (|| {
        Ok::<_, Diagnostics>((
            decode(request.prior_state.as_ref(), &r.ty, "prior state")?,
            decode(request.planned_state.as_ref(), &r.ty, "planned state")?,
            decode(request.config.as_ref(), &r.ty, "configuration")?,
        ))
    })();
    let (prior, planned, config) = match decoded {
        Ok(values) => values,
        Err(diags) => {
            return pb::apply_resource_change::Response {
                diagnostics: diags.to_proto(),
                ..Default::default()
            };
        }
    };
    let failed = |diagnostics| super::framework::ApplyOutcome::failed(diagnostics);
    let mut outcome = if planned.is_null() {
        let diagnostics = guarded("delete", r.imp.delete(ctx, &prior), |d| d).await;
        if diagnostics.has_errors() {
            // The object may still exist: keep it in state so a retry can
            // delete it.
            super::framework::ApplyOutcome {
                new_state: Some(prior.clone()),
                private: request.planned_private.clone(),
                diagnostics,
            }
        } else {
            super::framework::ApplyOutcome {
                diagnostics,
                ..Default::default()
            }
        }
    } else if prior.is_null() {
        guarded("create", r.imp.create(ctx, &planned, &config), failed).await
    } else {
        let mut outcome = guarded(
            "update",
            r.imp.update(ctx, &prior, &planned, &config),
            failed,
        )
        .await;
        if outcome.new_state.is_none() && outcome.diagnostics.has_errors() {
            // A failed update leaves the object as it was.
            outcome.new_state = Some(prior.clone());
        }
        outcome
    };
    let state = outcome.new_state.take().unwrap_or(Value::Null);
    // Terraform refuses unknown values in a new state; on failure it would
    // turn them into nulls itself, so do the same whatever happened.
    let state = unknown_as_null(state);
    let mut diagnostics = outcome.diagnostics;
    let new_state = match encode(&state, &r.ty) {
        Ok(encoded) => Some(encoded),
        Err(diags) => {
            diagnostics.extend(diags);
            None
        }
    };
    pb::apply_resource_change::Response {
        new_state,
        private: outcome.private,
        diagnostics: diagnostics.to_proto(),
    }
}

/// Replaces every unknown inside a value with null.
fn unknown_as_null(value: Value) -> Value {
    let each = |items: Vec<Value>| items.into_iter().map(unknown_as_null).collect();
    let each_entry = |entries: std::collections::BTreeMap<String, Value>| {
        entries
            .into_iter()
            .map(|(k, v)| (k, unknown_as_null(v)))
            .collect()
    };
    match value {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(each(items)),
        Value::Set(items) => Value::Set(each(items)),
        Value::Tuple(items) => Value::Tuple(each(items)),
        Value::Map(entries) => Value::Map(each_entry(entries)),
        Value::Object(entries) => Value::Object(each_entry(entries)),
        Value::Dynamic(ty, inner) => Value::Dynamic(ty, Box::new(unknown_as_null(*inner))),
        known => known,
    }
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
