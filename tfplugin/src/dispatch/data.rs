//! Data source RPCs.

use super::Dispatch;
use super::codec::{decode, diags, encode, validated};
use super::guard::guarded;
use crate::proto::tfplugin6 as pb;

impl Dispatch {
    pub(super) fn handle_validate_data_resource_config(
        &self,
        request: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        tracing::debug!(type_name = %request.type_name, "ValidateDataResourceConfig");
        let result = self.data_source(&request.type_name).and_then(|d| {
            let what = "data source configuration";
            validated(request.config.as_ref(), &d.schema, &d.ty, what, |c| {
                d.imp.validate(c)
            })
        });
        pb::validate_data_resource_config::Response {
            diagnostics: diags(result).1,
        }
    }

    pub(super) async fn handle_read_data_source(
        &self,
        request: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
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
        pb::read_data_source::Response {
            state,
            diagnostics,
            deferred: None,
        }
    }
}
