//! The services go-plugin expects beside the provider itself.

use super::proto::go_plugin as pb;
use super::proto::health as health_pb;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that sends nothing and ends when the plugin shuts down, so that
/// it does not hold up a graceful shutdown.
fn silent_until<T: Send + 'static>(shutdown: CancellationToken) -> BoxStream<T> {
    let ended = futures_util::stream::once(shutdown.cancelled_owned());
    Box::pin(ended.filter_map(|()| async { None }))
}

/// GRPCController: Terraform's way to end the plugin process.
pub struct Controller {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.shutdown.cancel();
        Ok(Response::new(pb::Empty {}))
    }
}

/// GRPCStdio: go-plugin mirrors a plugin's stdout/stderr through it. Our
/// logs go to stderr, which go-plugin already reads line by line, so this
/// stream stays open and quiet; without it Terraform logs an error.
pub struct Stdio {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<pb::StdioData>;

    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(silent_until(self.shutdown.clone())))
    }
}

/// GRPCBroker: lets plugins open extra connections. Terraform's providers
/// never use it, but the client opens the stream at start-up.
pub struct Broker {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<pb::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = request.into_inner();
        let shutdown = self.shutdown.clone();
        // Drain what the client sends; end when it hangs up or we shut down.
        let ended = futures_util::stream::once(async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = async { while let Some(Ok(_)) = incoming.next().await {} } => {}
            }
        });
        Ok(Response::new(Box::pin(
            ended.filter_map(|()| async { None }),
        )))
    }
}

/// The gRPC health check; go-plugin pings the service named "plugin".
pub struct Health;

#[tonic::async_trait]
impl health_pb::health_server::Health for Health {
    async fn check(
        &self,
        _: Request<health_pb::HealthCheckRequest>,
    ) -> Result<Response<health_pb::HealthCheckResponse>, Status> {
        Ok(Response::new(health_pb::HealthCheckResponse {
            status: health_pb::health_check_response::ServingStatus::Serving as i32,
        }))
    }
}
