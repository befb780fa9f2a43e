//! The managed-resource RPCs but apply (see `apply.rs`): validate, upgrade
//! state and identity, refresh, plan, import and config generation.

use super::codec::{as_result, decode, diags, encode, encode_identity, validated};
use super::guard::{guarded, guarded_sync};
use super::{Dispatch, ManagedResource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{ImportRequest, PlanRequest};
use crate::proto::tfplugin6 as pb;
use crate::value::Value;
use crate::{generate, json, plan};

impl ManagedResource {
    /// The identity Terraform stores beside `state`, read off it; none for
    /// a resource without identity or an object that does not exist.
    pub(super) fn identity_of(
        &self,
        state: &Value,
    ) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
        match &self.identity {
            Some((schema, ty)) if !state.is_null() => {
                encode_identity(&schema.derive(state), ty).map(Some)
            }
            _ => Ok(None),
        }
    }
}

fn unreadable(what: &str) -> impl Fn(String) -> Diagnostics + '_ {
    move |err| {
        Diagnostic::error(
            format!("Unreadable stored {what}"),
            format!("The stored {what} could not be read: {err}."),
        )
        .into()
    }
}

/// Reads a stored state. The current schema version takes the direct path
/// (it runs for every resource on every plan); older versions go through
/// the resource's upgrade hook as JSON first.
fn upgrade_state(r: &ManagedResource, version: i64, raw: &[u8]) -> Result<Value, Diagnostics> {
    let unreadable = unreadable("state");
    let (schema, ty) = (&r.typed.schema, &r.typed.ty);
    if version == schema.version {
        return json::decode_state(raw, ty).map_err(|e| unreadable(e.to_string()));
    }
    let stored: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| unreadable(e.to_string()))?;
    let upgrade = || r.typed.imp.upgrade_state(version, stored);
    let upgraded = guarded_sync("state upgrade", upgrade, Err)?;
    let bytes = serde_json::to_vec(&upgraded).map_err(|e| unreadable(e.to_string()))?;
    json::decode_state(&bytes, ty).map_err(|e| unreadable(e.to_string()))
}

/// Terraform's legacy flatmap format carries no JSON; nothing we wrote.
fn json_of(raw: Option<pb::RawState>, what: &str) -> Result<Vec<u8>, Diagnostics> {
    let raw = raw.unwrap_or_default();
    if raw.json.is_empty() {
        return Err(Diagnostic::error(
            format!("Unsupported {what} format"),
            format!(
                "This {what} was written in Terraform's legacy flatmap format, which this \
                 provider never wrote. Remove the resource from state and recreate it."
            ),
        )
        .into());
    }
    Ok(raw.json)
}

impl Dispatch {
    pub(super) fn handle_validate_resource_config(
        &self,
        request: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        tracing::debug!(type_name = %request.type_name, "ValidateResourceConfig");
        let result = self.resource(&request.type_name).and_then(|r| {
            let what = "resource configuration";
            validated(
                request.config.as_ref(),
                &r.typed.schema,
                &r.typed.ty,
                what,
                |c| r.typed.imp.validate(c),
            )
        });
        pb::validate_resource_config::Response {
            diagnostics: diags(result).1,
        }
    }

    pub(super) fn handle_upgrade_resource_state(
        &self,
        request: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        tracing::debug!(type_name = %request.type_name, "UpgradeResourceState");
        let result = self.resource(&request.type_name).and_then(|r| {
            let raw = json_of(request.raw_state, "state")?;
            let upgraded = upgrade_state(r, request.version, &raw)?;
            encode(&upgraded, &r.typed.ty)
        });
        let (upgraded_state, diagnostics) = diags(result);
        pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics,
        }
    }

    pub(super) fn handle_upgrade_resource_identity(
        &self,
        request: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        tracing::debug!(type_name = %request.type_name, "UpgradeResourceIdentity");
        let result = self.resource(&request.type_name).and_then(|r| {
            let Some((schema, ty)) = &r.identity else {
                return Err(Diagnostic::error(
                    "Resource has no identity",
                    format!("The {} resource declares no identity.", request.type_name),
                )
                .into());
            };
            let unreadable = unreadable("identity");
            let raw = json_of(request.raw_identity, "identity")?;
            let raw = if request.version == schema.version {
                raw
            } else {
                let stored = serde_json::from_slice(&raw).map_err(|e| unreadable(e.to_string()))?;
                let upgrade = || r.typed.imp.upgrade_identity(request.version, stored);
                let upgraded = guarded_sync("identity upgrade", upgrade, Err)?;
                serde_json::to_vec(&upgraded).map_err(|e| unreadable(e.to_string()))?
            };
            let identity = json::decode_state(&raw, ty).map_err(|e| unreadable(e.to_string()))?;
            encode_identity(&identity, ty)
        });
        let (upgraded_identity, diagnostics) = diags(result);
        pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics,
        }
    }

    pub(super) async fn handle_read_resource(
        &self,
        request: pb::read_resource::Request,
    ) -> pb::read_resource::Response {
        tracing::debug!(type_name = %request.type_name, "ReadResource");
        let ctx = self.context();
        let result = async {
            let r = self.resource(&request.type_name)?;
            let current = decode(request.current_state.as_ref(), &r.typed.ty, "current state")?;
            let read = guarded("refresh", r.typed.imp.read(&ctx, current), Err).await?;
            let state = read.unwrap_or(Value::Null);
            let private = if state.is_null() {
                request.private.clone()
            } else {
                let private = request.private.clone();
                let after = || Ok(r.typed.imp.private_after_read(&state, private));
                guarded_sync("refresh", after, Err)?
            };
            Ok((
                encode(&state, &r.typed.ty)?,
                r.identity_of(&state)?,
                private,
            ))
        }
        .await;
        let (read, diagnostics) = diags(result);
        let (new_state, new_identity, private) = match read {
            Some((state, identity, private)) => (Some(state), identity, private),
            None => (None, None, request.private),
        };
        pb::read_resource::Response {
            new_state,
            diagnostics,
            private,
            deferred: None,
            new_identity,
        }
    }

    pub(super) fn handle_plan_resource_change(
        &self,
        request: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        tracing::debug!(type_name = %request.type_name, "PlanResourceChange");
        let result = self.resource(&request.type_name).and_then(|r| {
            let ty = &r.typed.ty;
            let prior = decode(request.prior_state.as_ref(), ty, "prior state")?;
            let proposed = decode(request.proposed_new_state.as_ref(), ty, "proposed state")?;
            let config = decode(request.config.as_ref(), ty, "configuration")?;
            let mut generic = plan::plan(&r.typed.schema.block, &prior, &proposed, &config);
            let mut warnings = Diagnostics::new();
            if !generic.planned.is_null() {
                let plan_request = PlanRequest {
                    prior_state: &prior,
                    config: &config,
                    replacing: !generic.requires_replace.is_empty(),
                    prior_private: &request.prior_private,
                };
                let planned = &mut generic.planned;
                let modify = || r.typed.imp.modify_plan(&plan_request, planned);
                warnings = guarded_sync("plan", modify, |d| d);
                if warnings.has_errors() {
                    return Err(warnings);
                }
            }
            // An identity with unknown parts (a create, a replacement) is
            // left out: Terraform cannot write it into a saved plan's JSON,
            // and it learns the identity at apply anyway.
            let identity = match &r.identity {
                Some((schema, _)) if !schema.derive(&generic.planned).is_known() => None,
                _ => r.identity_of(&generic.planned)?,
            };
            let planned = encode(&generic.planned, ty)?;
            Ok((planned, identity, generic.requires_replace, warnings))
        });
        let mut response = pb::plan_resource_change::Response {
            planned_private: request.prior_private,
            ..Default::default()
        };
        match result {
            Ok((state, identity, replace, warnings)) => {
                response.planned_state = Some(state);
                response.planned_identity = identity;
                response.requires_replace = replace.iter().map(|p| p.to_proto()).collect();
                response.diagnostics = warnings.to_proto();
            }
            Err(diags) => response.diagnostics = diags.to_proto(),
        }
        response
    }

    pub(super) async fn handle_import_resource_state(
        &self,
        request: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        tracing::debug!(type_name = %request.type_name, "ImportResourceState");
        let ctx = self.context();
        let result = async {
            let r = self.resource(&request.type_name)?;
            let import = match (&request.identity, &r.identity) {
                (Some(given), Some((schema, ty))) => {
                    let identity = decode(given.identity_data.as_ref(), ty, "import identity")?;
                    as_result(schema.check_import(&identity))?;
                    ImportRequest::Identity(identity)
                }
                (Some(_), None) => {
                    return Err(Diagnostic::error(
                        "Import by identity is not supported",
                        format!(
                            "The {} resource has no identity; import it by ID.",
                            request.type_name
                        ),
                    )
                    .into());
                }
                (None, _) => ImportRequest::Id(request.id.clone()),
            };
            let state = guarded("import", r.typed.imp.import(&ctx, import), Err).await?;
            Ok(pb::import_resource_state::ImportedResource {
                type_name: request.type_name.clone(),
                identity: r.identity_of(&state)?,
                state: Some(encode(&state, &r.typed.ty)?),
                private: Vec::new(),
            })
        }
        .await;
        let (imported, diagnostics) = diags(result);
        pb::import_resource_state::Response {
            imported_resources: imported.into_iter().collect(),
            diagnostics,
            deferred: None,
        }
    }

    pub(super) fn handle_generate_resource_config(
        &self,
        request: pb::generate_resource_config::Request,
    ) -> pb::generate_resource_config::Response {
        tracing::debug!(type_name = %request.type_name, "GenerateResourceConfig");
        let result = self.resource(&request.type_name).and_then(|r| {
            let state = decode(request.state.as_ref(), &r.typed.ty, "state")?;
            let config = generate::config_from_state(&r.typed.schema.block, &state);
            encode(&config, &r.typed.ty)
        });
        let (config, diagnostics) = diags(result);
        pb::generate_resource_config::Response {
            config,
            diagnostics,
        }
    }
}
