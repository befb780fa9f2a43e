//! Typed data sources: a data source written against its configuration and
//! its answer as models.

use crate::context::Context;
use crate::diag::Diagnostics;
use crate::framework::DataSource;
use crate::model::Model;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;

/// A data source written against models. The framework decodes the
/// configuration into [`Config`](TypedDataSource::Config) and encodes the
/// [`Model`](TypedDataSource::Model) the read returns.
#[async_trait]
pub trait TypedDataSource: Send + Sync + 'static {
    /// What a read is given: the arguments. A data source that takes none
    /// uses [`NoArguments`](crate::model::NoArguments).
    type Config: Model + Send + Sync;

    /// What a read answers: the whole object, arguments and computed
    /// attributes alike. Often the same type as `Config`.
    type Model: Model + Send + Sync;

    /// See [`DataSource::type_name`].
    fn type_name(&self) -> &'static str;

    /// See [`DataSource::schema`].
    fn schema(&self) -> Schema;

    /// Checks that span several arguments (one argument's checks are
    /// validators on it). Runs only on a configuration that decodes into
    /// `Config`; one still unknown where `Config` cannot hold an unknown is
    /// checked again at read.
    fn validate(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }

    /// Reads the data `config` selects.
    async fn read(&self, ctx: &Context, config: Self::Config) -> Result<Self::Model, Diagnostics>;
}

#[async_trait]
impl<T: TypedDataSource> DataSource for T {
    fn type_name(&self) -> &'static str {
        TypedDataSource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedDataSource::schema(self)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        super::validate_decoded::<T::Config>(config, |config| {
            TypedDataSource::validate(self, config)
        })
    }

    async fn read(&self, ctx: &Context, config: &Value) -> Result<Value, Diagnostics> {
        let config = T::Config::from_value(config)?;
        let read = TypedDataSource::read(self, ctx, config).await?;
        Ok(read.to_value())
    }
}
