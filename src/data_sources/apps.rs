//! `data "parallel_apps"`: every app of the organization.

use crate::client::App;
use crate::toolkit::{self, Attempt};
use async_trait::async_trait;
use tfplugin::model::Model;
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

tfplugin::model! {
    /// What the data source answers.
    pub struct AppsModel {
        pub apps: Vec<ListedApp>,
    }
}

tfplugin::model! {
    /// One element of `apps`.
    pub struct ListedApp {
        pub app_id: String,
        pub app_name: String,
        pub org_id: String,
        pub org_name: Option<String>,
    }
}

impl From<&App> for ListedApp {
    fn from(app: &App) -> Self {
        ListedApp {
            app_id: app.app_id.clone(),
            app_name: app.app_name.clone(),
            org_id: app.org_id.clone(),
            org_name: app.org_name.clone(),
        }
    }
}

fn schema() -> Schema {
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

#[async_trait]
impl DataSource for AppsDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &Context, _config: &Value) -> Result<Value, Diagnostics> {
        let api = toolkit::api(ctx)?;
        let apps = api
            .apps
            .list(&api.client, &ctx.cancel)
            .await
            .map_err(|err| {
                toolkit::api_error(&err, Attempt::new("Listing the apps of the organization"))
            })?;
        let apps = apps.iter().map(ListedApp::from).collect();
        Ok(AppsModel { apps }.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_the_schema() {
        AppsModel::check_schema(&schema().block).unwrap();
    }
}
