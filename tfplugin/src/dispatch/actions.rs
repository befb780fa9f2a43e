//! Action RPCs. An invocation runs in its own task and streams progress
//! events, then one completion event with its diagnostics; hanging up
//! cancels the action's context.

use super::codec::{as_result, checked, decode, diags, validated};
use super::guard::guarded;
use super::{Dispatch, EventStream};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{Context, Progress};
use crate::proto::tfplugin6 as pb;
use pb::invoke_action::event::{Completed, Type as EventType};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

fn completed(diagnostics: Vec<pb::Diagnostic>) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(EventType::Completed(Completed { diagnostics })),
    }
}

fn progress(message: String) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(EventType::Progress(pb::invoke_action::event::Progress {
            message,
        })),
    }
}

impl Dispatch {
    pub(super) fn handle_validate_action_config(
        &self,
        request: pb::validate_action_config::Request,
    ) -> pb::validate_action_config::Response {
        tracing::debug!(type_name = %request.type_name, "ValidateActionConfig");
        let result = self.action(&request.type_name).and_then(|a| {
            let what = "action configuration";
            validated(request.config.as_ref(), &a.schema, &a.ty, what, |c| {
                a.imp.validate(c)
            })
        });
        pb::validate_action_config::Response {
            diagnostics: diags(result).1,
        }
    }

    pub(super) fn handle_plan_action(
        &self,
        request: pb::plan_action::Request,
    ) -> pb::plan_action::Response {
        tracing::debug!(action_type = %request.action_type, "PlanAction");
        let deferral_allowed = request
            .client_capabilities
            .is_some_and(|c| c.deferral_allowed);
        let result = self.action(&request.action_type).and_then(|a| {
            let config = decode(request.config.as_ref(), &a.ty, "action configuration")?;
            if !config.is_known() {
                return Ok(false);
            }
            let plan = |c: &_| a.imp.plan(c);
            as_result(checked("action plan", &a.schema.block, &config, plan)).map(|()| true)
        });
        match result {
            Ok(true) => pb::plan_action::Response::default(),
            Ok(false) if deferral_allowed => pb::plan_action::Response {
                deferred: Some(pb::Deferred {
                    reason: pb::deferred::Reason::ResourceConfigUnknown as i32,
                }),
                ..Default::default()
            },
            Ok(false) => pb::plan_action::Response {
                diagnostics: Diagnostics::from(Diagnostic::error(
                    "Action configuration not known",
                    format!(
                        "The configuration of {} depends on values known only after apply. \
                         Apply the resources it depends on first, then invoke it.",
                        request.action_type
                    ),
                ))
                .to_proto(),
                ..Default::default()
            },
            Err(diags) => pb::plan_action::Response {
                diagnostics: diags.to_proto(),
                ..Default::default()
            },
        }
    }

    pub(super) fn handle_invoke_action(
        &self,
        request: pb::invoke_action::Request,
    ) -> EventStream<pb::invoke_action::Event> {
        tracing::debug!(action_type = %request.action_type, "InvokeAction");
        let found = self.action(&request.action_type).and_then(|a| {
            let config = decode(request.config.as_ref(), &a.ty, "action configuration")?;
            Ok((a.imp.clone(), config))
        });
        let (action, config) = match found {
            Ok(found) => found,
            Err(diags) => {
                return Box::pin(tokio_stream::iter([Ok(completed(diags.to_proto()))]));
            }
        };
        let cancel = self.stop.current().child_token();
        let ctx = Context {
            cancel: cancel.clone(),
            ..self.context()
        };
        let (events, stream) = mpsc::channel(16);
        tokio::spawn(async move {
            let (messages, mut reported) = mpsc::channel::<String>(16);
            let run = async {
                let progress = Progress::new(messages);
                let invoke = action.invoke(&ctx, &config, &progress);
                guarded("action", invoke, |d| d).await
                // `progress` drops here, which ends the forwarding below.
            };
            let forward = async {
                while let Some(message) = reported.recv().await {
                    // After StopProvider (or a hang-up) Terraform has asked
                    // for nothing more, and a progress event then crashes
                    // Terraform 1.15 ("range function continued
                    // iteration"): drop it, but keep draining so the action
                    // can finish.
                    if cancel.is_cancelled() {
                        tracing::debug!("stopped: progress not sent: {message}");
                        continue;
                    }
                    let _ = events.send(Ok(progress(message))).await;
                }
            };
            let work = async { tokio::join!(run, forward) };
            tokio::pin!(work);
            // Terraform hanging up cancels the action's context, but the
            // action still runs to its end: it may be mid-way through a
            // change that must not be cut off.
            let (diagnostics, ()) = tokio::select! {
                done = &mut work => done,
                () = events.closed() => {
                    cancel.cancel();
                    work.await
                }
            };
            let delivered = events
                .send(Ok(completed(diagnostics.to_proto())))
                .await
                .is_ok();
            if !delivered {
                tracing::debug!("Terraform hung up before the action completed");
            }
            ctx.delivery.settle(delivered);
        });
        Box::pin(ReceiverStream::new(stream))
    }
}
