//! Ephemeral resource RPCs: open, renew and close a value that is never
//! stored.

use super::Dispatch;
use super::codec::{decode, diags, encode, timestamp, validated};
use super::guard::guarded;
use crate::proto::tfplugin6 as pb;

impl Dispatch {
    pub(super) fn handle_validate_ephemeral_resource_config(
        &self,
        request: pb::validate_ephemeral_resource_config::Request,
    ) -> pb::validate_ephemeral_resource_config::Response {
        let result = self.ephemeral(&request.type_name).and_then(|e| {
            validated(
                request.config.as_ref(),
                &e.schema,
                &e.ty,
                "configuration",
                |c| e.imp.validate(c),
            )
        });
        pb::validate_ephemeral_resource_config::Response {
            diagnostics: diags(result).1,
        }
    }

    pub(super) async fn handle_open_ephemeral_resource(
        &self,
        request: pb::open_ephemeral_resource::Request,
    ) -> pb::open_ephemeral_resource::Response {
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
        response
    }

    pub(super) async fn handle_renew_ephemeral_resource(
        &self,
        request: pb::renew_ephemeral_resource::Request,
    ) -> pb::renew_ephemeral_resource::Response {
        let ctx = self.context();
        let private = request.private.unwrap_or_default();
        let result = async {
            let e = self.ephemeral(&request.type_name)?;
            guarded("ephemeral renew", e.imp.renew(&ctx, &private), Err).await
        }
        .await;
        let (renew_at, diagnostics) = diags(result);
        pb::renew_ephemeral_resource::Response {
            diagnostics,
            renew_at: renew_at.flatten().map(timestamp),
            private: Some(private),
        }
    }

    pub(super) async fn handle_close_ephemeral_resource(
        &self,
        request: pb::close_ephemeral_resource::Request,
    ) -> pb::close_ephemeral_resource::Response {
        let ctx = self.context();
        let private = request.private.unwrap_or_default();
        let diagnostics = match self.ephemeral(&request.type_name) {
            Err(diags) => diags,
            Ok(e) => guarded("ephemeral close", e.imp.close(&ctx, &private), |d| d).await,
        };
        pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics.to_proto(),
        }
    }
}
