//! What the provider declares (metadata, schemas, identity schemas) and the
//! provider-level RPCs: validating and configuring the provider itself.

use super::codec::{as_result, checked, decode, diags};
use super::guard::guarded;
use super::{Dispatch, ManagedResource, Typed, capabilities};
use crate::diag::Diagnostics;
use crate::framework::{
    Action, ConfigureRequest, Configured, DataSource, EphemeralResource, ListResource,
};
use crate::proto::tfplugin6 as pb;
use crate::schema::Schema;
use std::collections::HashMap;
use std::sync::Arc;

fn names<'a, T>(map: &'a HashMap<&'static str, T>) -> impl Iterator<Item = String> + 'a {
    map.keys().map(|name| (*name).to_owned())
}

fn schemas<T: ?Sized>(map: &HashMap<&'static str, Typed<T>>) -> HashMap<String, pb::Schema> {
    map.iter()
        .map(|(name, o)| ((*name).to_owned(), o.schema.to_proto()))
        .collect()
}

/// The GetProviderSchema answer, built once: Terraform asks for it at the
/// start of every run, sometimes several times.
pub(super) fn provider_schema(
    provider: &Schema,
    resources: &HashMap<&'static str, Arc<ManagedResource>>,
    data_sources: &HashMap<&'static str, Typed<dyn DataSource>>,
    ephemerals: &HashMap<&'static str, Typed<dyn EphemeralResource>>,
    lists: &HashMap<&'static str, Typed<dyn ListResource>>,
    actions: &HashMap<&'static str, Typed<dyn Action>>,
    declaration_errors: &Diagnostics,
) -> pb::get_provider_schema::Response {
    pb::get_provider_schema::Response {
        provider: Some(provider.to_proto()),
        resource_schemas: resources
            .iter()
            .map(|(name, r)| ((*name).to_owned(), r.typed.schema.to_proto()))
            .collect(),
        data_source_schemas: schemas(data_sources),
        ephemeral_resource_schemas: schemas(ephemerals),
        list_resource_schemas: schemas(lists),
        action_schemas: actions
            .iter()
            .map(|(name, a)| {
                let schema = Some(a.schema.to_proto());
                ((*name).to_owned(), pb::ActionSchema { schema })
            })
            .collect(),
        diagnostics: declaration_errors.to_proto(),
        server_capabilities: Some(capabilities()),
        ..Default::default()
    }
}

impl Dispatch {
    pub(super) fn metadata(&self) -> pb::get_metadata::Response {
        use pb::get_metadata as m;
        m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: self.declaration_errors.to_proto(),
            resources: names(&self.resources)
                .map(|type_name| m::ResourceMetadata { type_name })
                .collect(),
            data_sources: names(&self.data_sources)
                .map(|type_name| m::DataSourceMetadata { type_name })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: names(&self.ephemerals)
                .map(|type_name| m::EphemeralMetadata { type_name })
                .collect(),
            list_resources: names(&self.lists)
                .map(|type_name| m::ListResourceMetadata { type_name })
                .collect(),
            state_stores: Vec::new(),
            actions: names(&self.actions)
                .map(|type_name| m::ActionMetadata { type_name })
                .collect(),
        }
    }

    pub(super) fn identity_schemas(&self) -> pb::get_resource_identity_schemas::Response {
        pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .resources
                .iter()
                .filter_map(|(name, r)| {
                    let (identity, _) = r.identity.as_ref()?;
                    Some(((*name).to_owned(), identity.to_proto()))
                })
                .collect(),
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn handle_validate_provider_config(
        &self,
        request: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        let result = decode(
            request.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        )
        .and_then(|config| {
            let validate = |c: &_| self.provider.validate_config(c);
            let block = &self.provider_block;
            as_result(checked("provider validation", block, &config, validate))
        });
        pb::validate_provider_config::Response {
            diagnostics: diags(result).1,
        }
    }

    pub(super) async fn handle_configure_provider(
        &self,
        request: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        // What Terraform says it can take (deferrals, write-only attributes);
        // logged because it differs between Terraform versions.
        tracing::debug!(
            terraform_version = %request.terraform_version,
            client_capabilities = ?request.client_capabilities,
            "ConfigureProvider"
        );
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
                let configured =
                    guarded("provider configuration", configure, Configured::failed).await;
                if configured.data.is_some() {
                    self.set_provider_data(configured.data);
                }
                configured.diagnostics
            }
        };
        pb::configure_provider::Response {
            diagnostics: diagnostics.to_proto(),
        }
    }
}
