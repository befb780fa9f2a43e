//! `data "parallel_apps"`: every app of the organization.

use crate::client::App;
use crate::toolkit::{self, Failure};
use async_trait::async_trait;
use tfplugin::{Attribute, Block, Context, DataSource, Diagnostics, Schema, Type, Value};

pub const TYPE_NAME: &str = "parallel_apps";

/// Gets its client from the framework's context.
pub struct AppsDataSource;

fn app_type() -> Type {
    Type::object([
        ("app_id", Type::String),
        ("app_name", Type::String),
        ("org_id", Type::String),
        ("org_name", Type::String),
    ])
}

fn app_value(app: &App) -> Value {
    Value::object([
        ("app_id", Value::string(&app.app_id)),
        ("app_name", Value::string(&app.app_name)),
        ("org_id", Value::string(&app.org_id)),
        ("org_name", app.org_name.clone().into()),
    ])
}

#[async_trait]
impl DataSource for AppsDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new(
                "Every app of the organization that the access token belongs to, in the order \
                 the API lists them.",
            )
            .attribute(
                Attribute::of_type("apps", Type::list(app_type()))
                    .computed()
                    .description(
                        "The apps, each with `app_id`, `app_name`, `org_id` and `org_name` \
                         (null when the API does not return it).",
                    ),
            ),
        )
    }

    async fn read(&self, ctx: &Context, _config: &Value) -> Result<Value, Diagnostics> {
        let api = toolkit::api(ctx)?;
        let apps = api
            .apps
            .list(&api.client, &ctx.cancel)
            .await
            .map_err(|err| {
                toolkit::api_error(
                    &err,
                    Failure {
                        doing: "Listing the apps of the organization",
                        attributes: &[],
                        not_found: None,
                        timed_out_after: None,
                    },
                )
            })?;
        Ok(Value::object([(
            "apps",
            Value::list(apps.iter().map(app_value)),
        )]))
    }
}
