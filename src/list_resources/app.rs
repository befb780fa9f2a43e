//! `list "parallel_app"`: every app of the organization, for `terraform
//! query`, each with its identity, so `-generate-config-out` can write the
//! import and resource blocks that bring them under Terraform.

use crate::resources::app::{AppModel, TYPE_NAME};
use crate::toolkit;
use async_trait::async_trait;
use tfplugin::model::{Maybe, Model};
use tfplugin::typed::TypedListResource;
use tfplugin::{
    Attribute, Block, Context, Diagnostic, Diagnostics, ListItem, ListSink, Schema, attr_path,
};

/// Gets its client from the framework's context.
pub struct AppList;

tfplugin::model! {
    /// The list block's configuration.
    pub struct AppListConfig {
        pub name_prefix: Maybe<String>,
    }
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Lists the apps of the organization that the access token belongs to.")
            .attribute(
                Attribute::string("name_prefix")
                    .optional()
                    .description("Only apps whose name starts with this text (case-sensitive)."),
            ),
    )
}

#[async_trait]
impl TypedListResource for AppList {
    type Config = AppListConfig;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &AppListConfig) -> Diagnostics {
        match &config.name_prefix {
            Maybe::Known(prefix) if prefix.is_empty() => Diagnostic::error(
                "Invalid name_prefix",
                "name_prefix must not be empty; leave it out to list every app.",
            )
            .at(attr_path!(AppListConfig, name_prefix))
            .into(),
            _ => Diagnostics::new(),
        }
    }

    async fn list(
        &self,
        ctx: &Context,
        config: AppListConfig,
        _limit: u64,
        sink: &ListSink,
    ) -> Result<(), Diagnostics> {
        let api = toolkit::api(ctx)?;
        let prefix = config.name_prefix.known().map_or("", String::as_str);
        let apps = api.list_apps(&ctx.cancel).await?;
        for app in apps.iter().filter(|app| app.app_name.starts_with(prefix)) {
            let item = ListItem {
                display_name: app.app_name.clone(),
                state: AppModel::listed(app).to_value(),
            };
            if !sink.push(item).await {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_the_schema() {
        AppListConfig::check_schema(&schema().block).unwrap();
    }
}
