//! Typed ephemeral resources: an ephemeral resource written against its
//! configuration, its value and its private data as Rust types.

use crate::context::Context;
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{EphemeralOpened, EphemeralResource};
use crate::model::Model;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::SystemTime;

/// What an open produced, typed (see [`EphemeralOpened`]).
#[derive(Debug)]
pub struct Opened<M, P> {
    /// The value handed to whatever refers to the ephemeral resource.
    pub result: M,
    /// What `renew` and `close` need; Terraform keeps it as JSON bytes
    /// until then (never in a plan or a state).
    pub private: P,
    /// When Terraform should call `renew`, if ever.
    pub renew_at: Option<SystemTime>,
}

/// An ephemeral resource written against Rust types. The framework decodes
/// the configuration into [`Config`](TypedEphemeralResource::Config),
/// encodes the value opened, and keeps
/// [`Private`](TypedEphemeralResource::Private) as JSON between open,
/// renew and close.
#[async_trait]
pub trait TypedEphemeralResource: Send + Sync + 'static {
    /// The configuration.
    type Config: Model + Send + Sync;

    /// The value opened: the configuration with the computed attributes
    /// filled in. Often the same type as `Config`.
    type Model: Model + Send + Sync;

    /// What renew and close need to find what open made. It is stored in
    /// no plan and no state, but it crosses to Terraform and back, so keep
    /// secrets out of it.
    type Private: Serialize + DeserializeOwned + Send + Sync;

    /// See [`EphemeralResource::type_name`].
    fn type_name(&self) -> &'static str;

    /// See [`EphemeralResource::schema`].
    fn schema(&self) -> Schema;

    /// Checks that span several arguments; runs only on a configuration
    /// that decodes into `Config`.
    fn validate(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }

    /// Opens the value `config` describes.
    async fn open(
        &self,
        ctx: &Context,
        config: Self::Config,
    ) -> Result<Opened<Self::Model, Self::Private>, Diagnostics>;

    /// See [`EphemeralResource::renew`]; the default asks for no more
    /// renewals.
    async fn renew(
        &self,
        _ctx: &Context,
        _private: Self::Private,
    ) -> Result<Option<SystemTime>, Diagnostics> {
        Ok(None)
    }

    /// See [`EphemeralResource::close`]; the default does nothing.
    async fn close(&self, _ctx: &Context, _private: Self::Private) -> Diagnostics {
        Diagnostics::new()
    }

    /// Renew or close was handed private data that is not what open
    /// recorded (`during` is "renew" or "close"), so it cannot tell what to
    /// release. The default is an error saying so.
    fn private_unreadable(&self, during: &str) -> Diagnostics {
        Diagnostic::error(
            "Unreadable private data",
            format!(
                "Terraform handed the {} {during} private data that its open did not record, so \
                 the provider cannot tell what to release. Check for what it opened by hand.",
                self.type_name()
            ),
        )
        .into()
    }

    /// See [`EphemeralResource::close_abandoned`]; the default does nothing.
    async fn close_abandoned(&self, _ctx: &Context) {}
}

#[async_trait]
impl<T: TypedEphemeralResource> EphemeralResource for T {
    fn type_name(&self) -> &'static str {
        TypedEphemeralResource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedEphemeralResource::schema(self)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        super::validate_decoded::<T::Config>(config, |config| {
            TypedEphemeralResource::validate(self, config)
        })
    }

    async fn open(&self, ctx: &Context, config: &Value) -> Result<EphemeralOpened, Diagnostics> {
        let config = T::Config::from_value(config)?;
        let opened = TypedEphemeralResource::open(self, ctx, config).await?;
        // Plain data structs always serialize; should one not, say so
        // rather than hand Terraform a value close could not release.
        let private = serde_json::to_vec(&opened.private).map_err(|err| {
            Diagnostics::from(Diagnostic::error(
                "Cannot record what was opened",
                format!(
                    "The {} could not record what it opened ({err}); release it by hand.",
                    TypedEphemeralResource::type_name(self)
                ),
            ))
        })?;
        Ok(EphemeralOpened {
            result: opened.result.to_value(),
            private,
            renew_at: opened.renew_at,
        })
    }

    async fn renew(
        &self,
        ctx: &Context,
        private: &[u8],
    ) -> Result<Option<SystemTime>, Diagnostics> {
        match serde_json::from_slice(private) {
            Ok(private) => TypedEphemeralResource::renew(self, ctx, private).await,
            Err(_) => Err(self.private_unreadable("renew")),
        }
    }

    async fn close(&self, ctx: &Context, private: &[u8]) -> Diagnostics {
        match serde_json::from_slice(private) {
            Ok(private) => TypedEphemeralResource::close(self, ctx, private).await,
            Err(_) => self.private_unreadable("close"),
        }
    }

    async fn close_abandoned(&self, ctx: &Context) {
        TypedEphemeralResource::close_abandoned(self, ctx).await;
    }
}
