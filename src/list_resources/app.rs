//! `list "parallel_app"`: every app of the organization, for `terraform
//! query`, each with its identity, so `-generate-config-out` can write the
//! import and resource blocks that bring them under Terraform.

use crate::resources::app::{TYPE_NAME, state_of};
use crate::toolkit::{self, Failure};
use async_trait::async_trait;
use tfplugin::{
    AttrPath, Attribute, Block, Context, Diagnostic, Diagnostics, ListItem, ListRequest,
    ListResource, ListSink, Schema, Value,
};

/// Gets its client from the framework's context.
pub struct AppList;

#[async_trait]
impl ListResource for AppList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Lists the apps of the organization that the access token belongs to.")
                .attribute(
                    Attribute::string("name_prefix").optional().description(
                        "Only apps whose name starts with this text (case-sensitive).",
                    ),
                ),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        match config.field("name_prefix") {
            Value::String(prefix) if prefix.is_empty() => Diagnostic::error(
                "Invalid name_prefix",
                "name_prefix must not be empty; leave it out to list every app.",
            )
            .at(AttrPath::root("name_prefix"))
            .into(),
            _ => Diagnostics::new(),
        }
    }

    async fn list(&self, ctx: &Context, request: ListRequest<'_>, sink: &ListSink) -> Diagnostics {
        let api = match toolkit::api(ctx) {
            Ok(api) => api,
            Err(diags) => return diags,
        };
        let prefix = request.config.field("name_prefix").as_str().unwrap_or("");
        let apps = match api.apps.list(&api.client, &ctx.cancel).await {
            Ok(apps) => apps,
            Err(err) => {
                return toolkit::api_error(
                    &err,
                    Failure {
                        doing: "Listing the apps of the organization",
                        attributes: &[],
                        not_found: None,
                        timed_out_after: None,
                    },
                );
            }
        };
        for app in apps.iter().filter(|app| app.app_name.starts_with(prefix)) {
            let item = ListItem {
                display_name: app.app_name.clone(),
                state: state_of(app),
            };
            if !sink.push(item).await {
                break;
            }
        }
        Diagnostics::new()
    }
}
