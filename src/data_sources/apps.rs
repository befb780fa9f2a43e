//! `data "parallel_apps"`: every app of the organization.

use super::app::AppFacts;
use crate::toolkit;
use async_trait::async_trait;
use tfplugin::model::{Field, NoArguments};
use tfplugin::typed::TypedDataSource;
use tfplugin::{Attribute, Block, Context, Diagnostics, Schema, Type};

pub const TYPE_NAME: &str = "parallel_apps";

/// Gets its client from the framework's context.
pub struct AppsDataSource;

tfplugin::model! {
    /// What the data source answers.
    pub struct AppsModel {
        pub apps: Vec<AppFacts>,
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
            Attribute::of_type("apps", Type::list(AppFacts::value_type()))
                .computed()
                .description(
                    "The apps, each with `app_id`, `app_name`, `org_id` and `org_name` \
                     (null when the API does not return it).",
                ),
        ),
    )
}

#[async_trait]
impl TypedDataSource for AppsDataSource {
    type Config = NoArguments;
    type Model = AppsModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &Context, _: NoArguments) -> Result<AppsModel, Diagnostics> {
        let api = toolkit::api(ctx)?;
        let apps = api.list_apps(&ctx.cancel).await?;
        let apps = apps.iter().map(AppFacts::from).collect();
        Ok(AppsModel { apps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::Model;

    #[test]
    fn the_model_is_the_schema() {
        AppsModel::check_schema(&schema().block).unwrap();
    }
}
