//! Types and service traits generated at build time from `proto/`.
#![allow(clippy::all, clippy::pedantic, dead_code)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

pub mod go_plugin {
    tonic::include_proto!("plugin");
}

pub mod health {
    tonic::include_proto!("grpc.health.v1");
}
