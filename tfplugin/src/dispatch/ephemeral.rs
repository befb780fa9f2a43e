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
        let found = self.ephemeral(&request.type_name).and_then(|e| {
            let config = decode(request.config.as_ref(), &e.ty, "configuration")?;
            Ok((e.imp.clone(), e.ty.clone(), config))
        });
        let result = match found {
            Err(diags) => Err(diags),
            // Detached, like an apply: an open that created something runs
            // to its answer even when Terraform's connection closes under
            // it, so that what it opened is known and can be released.
            Ok((imp, ty, config)) => {
                let (answer, answered) = tokio::sync::oneshot::channel();
                self.lifeline.detach(async move {
                    let opened = guarded("ephemeral open", imp.open(&ctx, &config), Err).await;
                    let encoded = opened.and_then(|opened| {
                        Ok((
                            encode(&opened.result, &ty)?,
                            opened.private,
                            opened.renew_at,
                        ))
                    });
                    let _ = answer.send(encoded);
                });
                answered.await.unwrap_or_else(|_| {
                    Err(crate::diag::Diagnostic::error(
                        "Provider internal error",
                        "The ephemeral open ended without an answer. Please report this bug.",
                    )
                    .into())
                })
            }
        };
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

    /// Releases every ephemeral value still open: the run is over (see
    /// `EphemeralResource::close_abandoned`). Runs with a context of its
    /// own, which the stop that led here has not cancelled.
    pub(crate) fn close_abandoned(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let ctx = self.context();
        let ephemerals: Vec<_> = self.ephemerals.values().map(|e| e.imp.clone()).collect();
        async move {
            for ephemeral in ephemerals {
                let close = ephemeral.close_abandoned(&ctx);
                guarded("ephemeral close_abandoned", close, drop).await;
            }
        }
    }
}
