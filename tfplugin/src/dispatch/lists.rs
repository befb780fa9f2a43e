//! List resource RPCs (`terraform query`): the listing runs in its own
//! task and streams one event per object, so Terraform sees results while
//! the provider is still fetching, and hanging up stops the listing.

use super::codec::{decode, diags, encode, encode_identity, validated};
use super::guard::guarded;
use super::{Dispatch, EventStream};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{Context, ListItem, ListRequest, ListSink};
use crate::identity::IdentitySchema;
use crate::proto::tfplugin6 as pb;
use crate::value::Type;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// How to turn a found object into an event.
struct EventShape {
    identity: IdentitySchema,
    identity_type: Type,
    resource_type: Type,
    include_resource_object: bool,
}

impl EventShape {
    fn event(&self, item: ListItem) -> pb::list_resource::Event {
        let encoded = (|| {
            let identity =
                encode_identity(&self.identity.derive(&item.state), &self.identity_type)?;
            let object = if self.include_resource_object {
                Some(encode(&item.state, &self.resource_type)?)
            } else {
                None
            };
            Ok::<_, Diagnostics>((identity, object))
        })();
        match encoded {
            Ok((identity, resource_object)) => pb::list_resource::Event {
                identity: Some(identity),
                display_name: item.display_name,
                resource_object,
                diagnostic: Vec::new(),
            },
            Err(diags) => failure(diags),
        }
    }
}

fn failure(diagnostics: Diagnostics) -> pb::list_resource::Event {
    pb::list_resource::Event {
        diagnostic: diagnostics.to_proto(),
        ..Default::default()
    }
}

fn one_event(event: pb::list_resource::Event) -> EventStream<pb::list_resource::Event> {
    Box::pin(tokio_stream::iter([Ok(event)]))
}

impl Dispatch {
    pub(super) fn handle_validate_list_resource_config(
        &self,
        request: pb::validate_list_resource_config::Request,
    ) -> pb::validate_list_resource_config::Response {
        tracing::debug!(type_name = %request.type_name, "ValidateListResourceConfig");
        let result = self.list(&request.type_name).and_then(|l| {
            let limit = decode(request.limit.as_ref(), &Type::Number, "limit")?;
            if limit.as_number().is_some_and(|n| n.is_negative()) {
                return Err(Diagnostic::error(
                    "Invalid limit",
                    "The limit of a list block must be zero or more.",
                )
                .into());
            }
            let what = "list configuration";
            validated(request.config.as_ref(), &l.schema, &l.ty, what, |c| {
                l.imp.validate(c)
            })
        });
        pb::validate_list_resource_config::Response {
            diagnostics: diags(result).1,
        }
    }

    pub(super) fn handle_list_resource(
        &self,
        request: pb::list_resource::Request,
    ) -> EventStream<pb::list_resource::Event> {
        tracing::debug!(type_name = %request.type_name, "ListResource");
        let found = self.list(&request.type_name).and_then(|l| {
            let config = decode(request.config.as_ref(), &l.ty, "list configuration")?;
            let resource = self.resource(&request.type_name)?;
            let Some((identity, identity_type)) = resource.identity.clone() else {
                return Err(Diagnostic::error(
                    "List resource without identity",
                    "A list resource needs its resource's identity schema.",
                )
                .into());
            };
            let shape = EventShape {
                identity,
                identity_type,
                resource_type: resource.typed.ty.clone(),
                include_resource_object: request.include_resource_object,
            };
            Ok((l.imp.clone(), config, shape))
        });
        let (list, config, shape) = match found {
            Ok(found) => found,
            Err(diags) => return one_event(failure(diags)),
        };
        // Terraform always sends a limit (100 unless the block says); read
        // zero or less as "no limit" rather than as "nothing".
        let limit = u64::try_from(request.limit)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(u64::MAX);
        let cancel = self.stop.current().child_token();
        let ctx = Context {
            cancel: cancel.clone(),
            ..self.context()
        };
        let (events, stream) = mpsc::channel(16);
        tokio::spawn(async move {
            let (items, mut found) = mpsc::channel::<ListItem>(1);
            let listing = async {
                let sink = ListSink::new(items);
                let request = ListRequest {
                    config: &config,
                    limit,
                };
                let list = list.list(&ctx, request, &sink);
                guarded("list", list, |d| d).await
                // The sink drops here, which ends the forwarding below.
            };
            let forward = async {
                let mut sent = 0;
                while sent < limit {
                    let Some(item) = found.recv().await else {
                        break;
                    };
                    if events.send(Ok(shape.event(item))).await.is_err() {
                        break;
                    }
                    sent += 1;
                }
                // Dropping the receiver tells the listing to stop.
                drop(found);
            };
            let work = async { tokio::join!(listing, forward) };
            tokio::pin!(work);
            // Terraform hanging up cancels the listing's context; the
            // listing then ends at its next wait or push.
            let (diagnostics, ()) = tokio::select! {
                done = &mut work => done,
                () = events.closed() => {
                    cancel.cancel();
                    work.await
                }
            };
            if !diagnostics.is_empty() {
                let _ = events.send(Ok(failure(diagnostics))).await;
            }
        });
        Box::pin(ReceiverStream::new(stream))
    }
}
