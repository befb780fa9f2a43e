//! `data "parallel_app"`: looks up an app of the token's organization by
//! name or by ID, so configurations need not hard-code app UUIDs.

use crate::client::App;
use crate::toolkit;
use async_trait::async_trait;
use tfplugin::model::Maybe;
use tfplugin::typed::TypedDataSource;
use tfplugin::{Attribute, Block, Context, Diagnostic, Diagnostics, Schema, attr_path};

pub const TYPE_NAME: &str = "parallel_app";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
pub struct AppDataSource;

pub fn schema() -> Schema {
    let block = Block::new(
        "Looks up one app of the organization that the access token belongs to, by `app_name` \
         or by `app_id` (set exactly one), so a configuration can name the app instead of \
         hard-coding its UUID. The lookup lists the organization's apps: a name that matches no \
         app is an error that lists the apps there are, and a name that matches several asks \
         for `app_id` instead.",
    )
    .attribute(
        Attribute::string("app_name")
            .optional()
            .computed()
            .description(
                "Name of the app to find; it must match exactly one app. Set this or `app_id`. \
                 When the app is found by `app_id`, this holds its name.",
            ),
    )
    .attribute(
        Attribute::string("app_id")
            .optional()
            .computed()
            .description(
                "ID (a UUID) of the app to find. Set this or `app_name`. When the app is found \
                 by `app_name`, this holds its ID.",
            ),
    )
    .attribute(
        Attribute::string("org_id")
            .computed()
            .description("ID of the organization the app belongs to."),
    )
    .attribute(
        Attribute::string("org_name")
            .computed()
            .description("Name of the organization, when the API returns it."),
    );
    Schema::new(0, block)
}

tfplugin::model! {
    /// An app as the data sources show it: this lookup's configuration and
    /// answer, and each element of `parallel_apps`' list.
    #[derive(Debug, Default)]
    pub struct AppFacts {
        pub app_name: Maybe<String>,
        pub app_id: Maybe<String>,
        pub org_id: Maybe<String>,
        pub org_name: Maybe<String>,
    }
}

impl From<&App> for AppFacts {
    fn from(app: &App) -> Self {
        AppFacts {
            app_name: Maybe::Known(app.app_name.clone()),
            app_id: Maybe::Known(app.app_id.clone()),
            org_id: Maybe::Known(app.org_id.clone()),
            org_name: app.org_name.clone().into(),
        }
    }
}

/// What the configuration asks for.
enum Wanted<'a> {
    Name(&'a str),
    Id(uuid::Uuid),
}

fn wanted(config: &AppFacts) -> Result<Wanted<'_>, Diagnostic> {
    match (&config.app_name, &config.app_id) {
        (Maybe::Known(name), Maybe::Null) => Ok(Wanted::Name(name)),
        // Checked here, so a value that cannot be an app ID fails at
        // validate instead of costing a list call at read.
        (Maybe::Null, Maybe::Known(id)) => {
            uuid::Uuid::parse_str(id).map(Wanted::Id).map_err(|_| {
                Diagnostic::error(
                    "Invalid app_id",
                    "app_id must be the UUID of a Parallel app, such as \
             \"3fa85f64-5717-4562-b3fc-2c963f66afa6\"; the configured value is not a UUID. To \
             find an app by its name, set app_name instead.",
                )
                .at(attr_path!(AppFacts, app_id))
            })
        }
        _ => Err(Diagnostic::error(
            "Set exactly one of app_name and app_id",
            "The parallel_app data source finds one app, either by its name or by its ID.",
        )
        .at(attr_path!(AppFacts, app_name))),
    }
}

/// Picks the one app the configuration means, or explains why there is none.
fn choose<'a>(apps: &'a [App], wanted: &Wanted<'_>) -> Result<&'a App, Diagnostic> {
    let (matching, described): (Vec<&App>, String) = match wanted {
        Wanted::Name(name) => (
            apps.iter().filter(|a| a.app_name == *name).collect(),
            format!("named {name:?}"),
        ),
        Wanted::Id(id) => (
            apps.iter().filter(|a| a.has_id(*id)).collect(),
            format!("with ID {id}"),
        ),
    };
    match matching.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<&str> = apps.iter().map(|a| a.app_name.as_str()).collect();
            Err(Diagnostic::error(
                "App not found",
                format!(
                    "The access token's organization has no app {described}. Its apps are: {}.",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ))
        }
        several => Err(Diagnostic::error(
            "Several apps match",
            format!(
                "{} apps are {described}; find the one you mean by app_id instead.",
                several.len()
            ),
        )),
    }
}

#[async_trait]
impl TypedDataSource for AppDataSource {
    type Config = AppFacts;
    type Model = AppFacts;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &AppFacts) -> Diagnostics {
        let unknown = config.app_name.is_unknown() || config.app_id.is_unknown();
        match wanted(config) {
            Err(diag) if !unknown => diag.into(),
            _ => Diagnostics::new(),
        }
    }

    async fn read(&self, ctx: &Context, config: AppFacts) -> Result<AppFacts, Diagnostics> {
        let wanted = wanted(&config)?;
        let api = toolkit::api(ctx)?;
        let apps = api.list_apps(&ctx.cancel).await?;
        choose(&apps, &wanted)
            .map(AppFacts::from)
            .map_err(Diagnostics::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Value;
    use tfplugin::model::Model;

    fn app(name: &str, id: &str) -> App {
        App {
            app_id: id.to_owned(),
            app_name: name.to_owned(),
            org_id: "org".to_owned(),
            org_name: None,
        }
    }

    #[test]
    fn finds_by_name_or_id() {
        let upper = "3FA85F64-5717-4562-B3FC-2C963F66AFA6";
        let apps = [app("ci", upper), app("prod", "b-2")];
        assert_eq!(
            choose(&apps, &Wanted::Name("prod")).map(|a| &a.app_id),
            Ok(&"b-2".to_owned())
        );
        // IDs compare as UUIDs, as everywhere in the provider.
        let id = uuid::Uuid::parse_str("{3fa85f64-5717-4562-b3fc-2c963f66afa6}").expect("a UUID");
        assert_eq!(
            choose(&apps, &Wanted::Id(id)).map(|a| &a.app_name),
            Ok(&"ci".to_owned())
        );
    }

    #[test]
    fn missing_and_ambiguous_names_are_explained() {
        let apps = [app("ci", "1"), app("ci", "2"), app("prod", "3")];
        let missing = choose(&apps, &Wanted::Name("dev")).expect_err("no dev app");
        assert!(
            missing.detail.contains("ci, ci, prod"),
            "{}",
            missing.detail
        );
        let several = choose(&apps, &Wanted::Name("ci")).expect_err("two ci apps");
        assert_eq!(several.summary, "Several apps match");
    }

    fn lookup(config: &Value) -> AppFacts {
        AppFacts::from_value(config).unwrap()
    }

    #[test]
    fn the_model_is_the_schema() {
        AppFacts::check_schema(&schema().block).unwrap();
    }

    #[test]
    fn exactly_one_selector_is_required() {
        let both = Value::object([
            ("app_name", Value::string("ci")),
            ("app_id", Value::string("1")),
        ]);
        assert!(wanted(&lookup(&both)).is_err());
        let neither = Value::object([("app_name", Value::Null), ("app_id", Value::Null)]);
        assert!(wanted(&lookup(&neither)).is_err());
    }

    #[test]
    fn an_app_id_that_is_no_uuid_is_refused_before_any_call() {
        let config = Value::object([("app_name", Value::Null), ("app_id", Value::string("nope"))]);
        let config = lookup(&config);
        let Err(diag) = wanted(&config) else {
            panic!("\"nope\" is not a UUID");
        };
        assert_eq!(diag.summary, "Invalid app_id");
        assert!(diag.detail.contains("app_name"), "{}", diag.detail);
        let uuid = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        let config = Value::object([("app_name", Value::Null), ("app_id", Value::string(uuid))]);
        let config = lookup(&config);
        assert!(matches!(wanted(&config), Ok(Wanted::Id(id)) if id.to_string() == uuid));
    }
}
