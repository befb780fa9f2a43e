//! Terraform's plugin protocol (version 6, over go-plugin's gRPC transport)
//! and a small framework for writing providers on it. Nothing in this module
//! tree knows about Parallel: the provider plugs in through the traits in
//! `framework`.

#![warn(missing_docs)]

pub mod action;
mod conn;
pub mod context;
mod delivery;
pub mod diag;
mod dispatch;
pub mod framework;
mod generate;
mod go_plugin;
pub mod handshake;
pub mod identity;
pub mod json;
pub mod lifecycle;
pub mod list;
mod logging;
pub mod model;
pub mod msgpack;
pub mod notices;
pub mod plan;
mod profile;
mod proto;
pub mod schema;
pub mod server;
mod tls;
pub mod typed;
pub mod validators;
pub mod value;

pub use diag::{Diagnostic, Diagnostics};
pub use framework::{
    Action, ApplyOutcome, Context, DataSource, Delivery, EphemeralResource, ImportRequest,
    ListItem, ListRequest, ListResource, ListSink, PlanRequest, Progress, Provider, Resource,
};
pub use identity::{IdentityAttribute, IdentitySchema};
pub use schema::{Attribute, Block, Nesting, Schema};
pub use value::{AttrPath, Type, Value};
