//! Typed list resources: a list resource written against its `config`
//! block as a model.

use crate::context::Context;
use crate::diag::Diagnostics;
use crate::list::{ListRequest, ListResource, ListSink};
use crate::model::Model;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;

/// A list resource written against its configuration's model. The framework
/// decodes the `list` block's `config` into
/// [`Config`](TypedListResource::Config).
#[async_trait]
pub trait TypedListResource: Send + Sync + 'static {
    /// The `config` block.
    type Config: Model + Send + Sync;

    /// See [`ListResource::type_name`].
    fn type_name(&self) -> &'static str;

    /// See [`ListResource::schema`].
    fn schema(&self) -> Schema;

    /// Checks that span several arguments; runs only on a configuration
    /// that decodes into `Config`.
    fn validate(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }

    /// Finds the objects `config` selects and pushes each to `sink` (see
    /// [`ListResource::list`]; `limit` is [`ListRequest::limit`]). An error
    /// reaches Terraform after the objects already pushed.
    async fn list(
        &self,
        ctx: &Context,
        config: Self::Config,
        limit: u64,
        sink: &ListSink,
    ) -> Result<(), Diagnostics>;
}

#[async_trait]
impl<T: TypedListResource> ListResource for T {
    fn type_name(&self) -> &'static str {
        TypedListResource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedListResource::schema(self)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        super::validate_decoded::<T::Config>(config, |config| {
            TypedListResource::validate(self, config)
        })
    }

    async fn list(&self, ctx: &Context, request: ListRequest<'_>, sink: &ListSink) -> Diagnostics {
        let listed = match T::Config::from_value(request.config) {
            Ok(config) => TypedListResource::list(self, ctx, config, request.limit, sink).await,
            Err(diags) => Err(diags),
        };
        listed.err().unwrap_or_default()
    }
}
