//! List resources (protocol 6.10, Terraform 1.14): `list` blocks run by
//! `terraform query`, which find existing objects of a managed resource
//! type so they can be imported.
//!
//! A list resource has the type name of a managed resource. It streams one
//! [`ListItem`] per object found, holding that object's state; the
//! framework reads the identity off the state with the resource's identity
//! schema, and sends the state itself only when Terraform asked for it.

use super::context::Context;
use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;
use async_trait::async_trait;
use tokio::sync::mpsc;

/// What `ListResource::list` is given.
pub struct ListRequest<'a> {
    /// The `config` block of the `list` block.
    pub config: &'a Value,
    /// The most results Terraform wants; the framework stops the listing
    /// there, so a list resource may ignore it or use it to fetch less.
    pub limit: u64,
}

/// One object found: its state under the managed resource's schema, and a
/// short name for people to read.
#[derive(Clone, Debug)]
pub struct ListItem {
    /// The name `terraform query` shows for the object.
    pub display_name: String,
    /// The object's state; the framework derives its identity from it.
    pub state: Value,
}

/// Where a listing sends what it finds, in order.
pub struct ListSink {
    items: mpsc::Sender<ListItem>,
}

impl ListSink {
    pub(crate) fn new(items: mpsc::Sender<ListItem>) -> Self {
        ListSink { items }
    }

    /// Hands one object to Terraform. Returns false once Terraform wants
    /// no more (the limit is reached or it hung up): stop listing then.
    pub async fn push(&self, item: ListItem) -> bool {
        self.items.send(item).await.is_ok()
    }
}

/// A list resource: finds the existing objects of one managed resource type
/// that a `list` block's `config` selects.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The managed resource type this lists.
    fn type_name(&self) -> &'static str;

    /// The schema of the `list` block's `config`.
    fn schema(&self) -> Schema;

    /// Offline checks of a `config`: values may still be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Finds the objects and pushes each to `sink`. Diagnostics returned
    /// reach Terraform after the objects already pushed.
    async fn list(&self, ctx: &Context, request: ListRequest<'_>, sink: &ListSink) -> Diagnostics;
}
