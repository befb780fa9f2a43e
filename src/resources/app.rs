//! `parallel_app`: an app of the organization, the home of API keys.
//!
//! The API can create, list and delete apps; it cannot rename one or read
//! one alone. So a changed name replaces the app, and a refresh reads the
//! organization's app list, shared by every app refreshed in the same run
//! (`toolkit::AppDirectory`).

use crate::client::{App, CreateAppError, Deletion};
use crate::toolkit::{
    self, Api, Attempt, Change, Deadline, Operation, Org, Timeouts, deletion_policy,
};
use async_trait::async_trait;
use tfplugin::framework::PlanRequest;
use tfplugin::model::{Maybe, Model};
use tfplugin::typed::{Applied, TypedResource};
use tfplugin::validators;
use tfplugin::{
    AttrPath, Attribute, Block, Context, Diagnostic, Diagnostics, IdentityAttribute,
    IdentitySchema, ImportRequest, Schema, Type, Value, attr_name, attr_path,
};
use uuid::Uuid;

pub const TYPE_NAME: &str = "parallel_app";

/// The API's documented limit.
const MAX_APP_NAME_CHARS: usize = 200;

/// Gets its client from the framework's context.
pub struct AppResource;

fn timeouts() -> Timeouts {
    Timeouts::covering(&[Operation::Create, Operation::Read, Operation::Delete])
}

fn computed(name: &'static str, description: &'static str) -> Attribute {
    Attribute::string(name)
        .computed()
        .use_state_for_unknown()
        .description(description)
}

pub fn schema() -> Schema {
    let block = Block::new(
        "An app of the Parallel organization that the access token belongs to. API keys \
         (`parallel_api_key`) belong to an app. Parallel cannot rename an app, so changing \
         `app_name` replaces it: the old app is deleted, and Parallel revokes every key it \
         holds; `parallel_api_key` resources that refer to its `app_id` are then replaced \
         with new keys in the new app.",
    )
    .attribute(computed("id", "Same as `app_id`."))
    .attribute(computed("app_id", "ID (a UUID) of the app."))
    .attribute(
        Attribute::string("app_name")
            .required()
            .requires_replace()
            .validator(validators::length_between(1, MAX_APP_NAME_CHARS))
            .description(
                "Name of the app, 1 to 200 characters. Changing it replaces the app (see \
                 above).",
            ),
    )
    .attribute(computed(
        "org_id",
        "ID of the organization the app belongs to.",
    ))
    .attribute(computed(
        "org_name",
        "Name of the organization, when the API returns it.",
    ))
    .attribute(deletion_policy::attribute(
        "`DELETE` (default): destroying the resource deletes the app, and with it every key \
         it holds. `ABANDON`: destroying only removes the app from the Terraform state and \
         leaves it, and its keys, alive in Parallel (to move it to another configuration, \
         then import it there). Changing only this updates in place, with no API call. When \
         the app is replaced, the old app follows the deletion_policy in state (the one in \
         effect before the apply), not the configuration's, even when the same apply changes \
         it: to switch from `ABANDON` to `DELETE` and have the old app deleted, apply the \
         policy change alone first.",
    ));
    Schema::new(0, timeouts().add_to(block))
}

tfplugin::model! {
    /// `parallel_app` as its config, plan or state.
    #[derive(Clone, Debug, Default)]
    pub struct AppModel {
        pub id: Maybe<String>,
        pub app_id: Maybe<String>,
        pub app_name: Maybe<String>,
        pub org_id: Maybe<String>,
        pub org_name: Maybe<String>,
        pub deletion_policy: Maybe<String>,
        /// Read by the `Timeouts` helper.
        pub timeouts: Value,
    }
}

tfplugin::model! {
    /// What names an app for good (its identity, Terraform 1.12 and later).
    pub struct AppIdentity {
        pub app_id: Maybe<String>,
    }
}

impl AppModel {
    /// An app as the API lists it, with the settings of a fresh resource
    /// (the defaults). Also what the list resource returns.
    pub fn listed(app: &App) -> AppModel {
        let mut model = AppModel {
            deletion_policy: Maybe::Known(deletion_policy::DEFAULT.to_owned()),
            ..AppModel::default()
        };
        model.take_listed(app);
        model
    }

    /// Takes what the API lists for the app; the settings are kept.
    fn take_listed(&mut self, app: &App) {
        self.id = Maybe::Known(app.app_id.clone());
        self.app_id = Maybe::Known(app.app_id.clone());
        self.app_name = Maybe::Known(app.app_name.clone());
        self.org_id = Maybe::Known(app.org_id.clone());
        self.org_name = app.org_name.clone().into();
    }

    fn label(&self) -> String {
        match (self.app_name.known(), self.app_id.known()) {
            (Some(name), Some(id)) => format!("app {name:?} (ID {id})"),
            (Some(name), None) => format!("app {name:?}"),
            (None, Some(id)) => format!("app {id}"),
            (None, None) => "the app".to_owned(),
        }
    }

    fn app_id_in_state(&self) -> Result<Uuid, Diagnostics> {
        match self.app_id.known() {
            Some(id) => Uuid::parse_str(id).map_err(|_| {
                Diagnostic::error(
                    "Invalid app_id in state",
                    format!(
                        "The app_id recorded in state for {}, {id:?}, is not a UUID. The value \
                         came from the state, not from the configuration (was the state edited \
                         by hand?). Put the app's UUID back (terraform state pull / push), or \
                         remove the resource with `terraform state rm` and import it again.",
                        self.label()
                    ),
                )
                .into()
            }),
            None => Err(Diagnostic::error(
                "No app_id in state",
                format!(
                    "The state records no app_id for {}. Remove it with `terraform state rm` \
                     and import the app by its ID.",
                    self.label()
                ),
            )
            .into()),
        }
    }
}

fn find(apps: &[App], app_id: Uuid) -> Option<&App> {
    apps.iter().find(|app| app.has_id(app_id))
}

/// The failure of a create, with what the user can do about an app that
/// may exist anyway.
fn create_failed(
    err: &CreateAppError,
    name: &str,
    timed_out_after: Option<std::time::Duration>,
) -> Diagnostics {
    let doing = format!("Creating app {name:?}");
    let mut diags = toolkit::api_error(
        &err.error,
        Attempt::new(&doing)
            .attributes(&[attr_name!(AppModel, app_name)])
            .timed_out_after(timed_out_after),
    );
    if err.may_have_created {
        diags.push(Diagnostic::warning(
            "The app may exist anyway",
            format!(
                "The request reached Parallel, which may have created the app {name:?} before \
                 the answer was lost. Look for it (data \"parallel_apps\", or the Parallel \
                 platform): import it with `terraform import <address> <app_id>`, or delete it, \
                 before applying again, or you may end up with two apps of that name."
            ),
        ));
    }
    diags
}

impl AppResource {
    async fn import_app(
        &self,
        ctx: &Context,
        given: &str,
        at: Option<AttrPath>,
    ) -> Result<AppModel, Diagnostics> {
        let Ok(app_id) = Uuid::parse_str(given.trim()) else {
            let diag = Diagnostic::error(
                "Invalid app ID to import",
                format!(
                    "An app is imported by its ID, a UUID such as \
                     \"3fa85f64-5717-4562-b3fc-2c963f66afa6\"; got {}. data \
                     \"parallel_apps\" lists every app with its ID.",
                    toolkit::quoted(given)
                ),
            );
            return Err(match at {
                Some(path) => diag.at(path),
                None => diag,
            }
            .into());
        };
        let api = toolkit::api(ctx)?;
        let apps = list(api, ctx, &format!("Importing app {app_id}"), None, None).await?;
        match find(&apps, app_id) {
            Some(app) => Ok(AppModel::listed(app)),
            None => Err(Diagnostic::error(
                "App not found",
                format!(
                    "Parallel has no app {app_id} that this access token can see. Check the ID, \
                     and that the token belongs to the app's organization."
                ),
            )
            .into()),
        }
    }
}

/// The organization's apps, through the shared list: as they are now, or
/// as of a list fetched `after` a change of our own.
async fn list(
    api: &Api,
    ctx: &Context,
    doing: &str,
    deadline: Option<&Deadline>,
    after: Option<Change>,
) -> Result<std::sync::Arc<Vec<App>>, Diagnostics> {
    let cancel = deadline.map_or(&ctx.cancel, Deadline::token);
    let listed = match after {
        Some(change) => api.apps.list_after(change, &api.client, cancel).await,
        None => api.apps.list(&api.client, cancel).await,
    };
    listed.map_err(|err| {
        let timed_out_after = deadline.and_then(Deadline::timed_out_after);
        toolkit::api_error(&err, Attempt::new(doing).timed_out_after(timed_out_after))
    })
}

#[async_trait]
impl TypedResource for AppResource {
    type Model = AppModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new(
            0,
            vec![IdentityAttribute::required("app_id", Type::String).description("ID of the app.")],
        ))
    }

    async fn create(
        &self,
        ctx: &Context,
        mut app: AppModel,
    ) -> Result<Applied<AppModel>, Diagnostics> {
        let api = toolkit::api(ctx)?;
        let Maybe::Known(name) = app.app_name.clone() else {
            return Err(Diagnostic::error(
                "Incomplete configuration",
                "app_name must be known to create an app.",
            )
            .into());
        };
        let limit = timeouts().limit(&app.timeouts, Operation::Create);
        let deadline = Deadline::start(&ctx.cancel, limit);
        tracing::debug!(app_name = %name, "creating app");
        let created = api.client.create_app(&name, deadline.token()).await;
        let change = api.apps.changed();
        let app_id =
            created.map_err(|err| create_failed(&err, &name, deadline.timed_out_after()))?;
        // The create answers only the ID. Whatever happens now, the app
        // exists and goes to state. Its name is what we sent; its
        // organization is the token's, known once any list this provider
        // fetched showed an app, so only the first creates of a run list.
        let id = app_id.to_string();
        app.id = Maybe::Known(id.clone());
        app.app_id = Maybe::Known(id.clone());
        let (found, read_back) = match api.apps.org() {
            Some(org) => (Some(org), Ok(())),
            None => {
                let doing = format!("Reading back the new app {name:?} (ID {id})");
                match list(api, ctx, &doing, Some(&deadline), Some(change)).await {
                    Ok(apps) => (find(&apps, app_id).map(Org::of), Ok(())),
                    Err(diags) => (None, Err(diags)),
                }
            }
        };
        match &found {
            Some(org) => {
                app.org_id = Maybe::Known(org.org_id.clone());
                app.org_name = org.org_name.clone().into();
            }
            // Null, not unknown, for what the list did not give.
            None => {
                app.org_id = Maybe::Null;
                app.org_name = Maybe::Null;
            }
        }
        let mut warnings = Diagnostics::new();
        if found.is_none() {
            warnings.push(Diagnostic::warning(
                "App created, but not read back",
                format!(
                    "Parallel created app {name:?} (ID {id}), and it is in the Terraform \
                         state, but listing the apps did not show it yet, so org_id and \
                         org_name are empty until the next refresh (terraform apply \
                         -refresh-only)."
                ),
            ));
        }
        if let Err(diags) = read_back {
            // Only warnings: the app exists and is saved.
            for d in diags.iter() {
                warnings.push(Diagnostic::warning(d.summary.clone(), d.detail.clone()));
            }
        }
        Ok(Applied::from(app).with(warnings))
    }

    async fn read(
        &self,
        ctx: &Context,
        mut state: AppModel,
    ) -> Result<Option<AppModel>, Diagnostics> {
        let api = toolkit::api(ctx)?;
        let app_id = state.app_id_in_state()?;
        let limit = timeouts().limit(&state.timeouts, Operation::Read);
        let deadline = Deadline::start(&ctx.cancel, limit);
        let doing = format!("Refreshing {}", state.label());
        let apps = list(api, ctx, &doing, Some(&deadline), None).await?;
        match find(&apps, app_id) {
            Some(app) => {
                state.take_listed(app);
                Ok(Some(state))
            }
            None => {
                // Deleted outside Terraform: forget it, and the next plan
                // creates it again.
                tracing::info!(%app_id, "app no longer exists; removing it from state");
                Ok(None)
            }
        }
    }

    /// A replacement of an app whose policy in state is ABANDON leaves the
    /// old app alive: said at plan, before anyone reads "1 destroyed".
    fn modify_plan(
        &self,
        request: &PlanRequest<'_>,
        _planned: &mut Value,
    ) -> Result<Diagnostics, Diagnostics> {
        if !request.replacing {
            return Ok(Diagnostics::new());
        }
        let prior = AppModel::from_value(request.prior_state)?;
        Ok(if deletion_policy::abandons(&prior.deletion_policy) {
            deletion_policy::replacement_abandons(&prior.label()).into()
        } else {
            Diagnostics::new()
        })
    }

    async fn delete(&self, ctx: &Context, prior: AppModel) -> Result<Diagnostics, Diagnostics> {
        if deletion_policy::abandons(&prior.deletion_policy) {
            tracing::info!(app = %prior.label(), "deletion_policy is ABANDON: leaving the app alive");
            return Ok(deletion_policy::abandoned(
                "App left in Parallel (deletion_policy = \"ABANDON\")",
                &prior.label(),
                "Every key it holds stays live too. Import it where it belongs (`terraform \
                 import <address> <app_id>`), or delete it in the Parallel platform.",
            )
            .into());
        }
        let api = toolkit::api(ctx)?;
        let app_id = prior.app_id_in_state()?;
        let limit = timeouts().limit(&prior.timeouts, Operation::Delete);
        let deadline = Deadline::start(&ctx.cancel, limit);
        let result = api.client.delete_app(app_id, deadline.token()).await;
        api.apps.changed();
        match result {
            Ok(Deletion::Revoked) => Ok(Diagnostics::new()),
            Ok(Deletion::AlreadyGone) => {
                tracing::info!(%app_id, "app was already deleted");
                Ok(Diagnostics::new())
            }
            Err(err) => Err(toolkit::api_error(
                &err,
                Attempt::new(&format!("Deleting {}", prior.label()))
                    .timed_out_after(deadline.timed_out_after()),
            )),
        }
    }

    async fn import(&self, ctx: &Context, request: ImportRequest) -> Result<AppModel, Diagnostics> {
        match request {
            ImportRequest::Id(id) => self.import_app(ctx, &id, None).await,
            ImportRequest::Identity(identity) => {
                let identity = AppIdentity::from_value(&identity)?;
                let id = identity.app_id.known().cloned().unwrap_or_default();
                self.import_app(ctx, &id, Some(attr_path!(AppIdentity, app_id)))
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, name: &str) -> App {
        App {
            app_id: id.into(),
            app_name: name.into(),
            org_id: "org-1".into(),
            org_name: Some("Org".into()),
        }
    }

    const ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

    #[test]
    fn a_refresh_takes_the_api_values_and_keeps_the_settings() {
        let current = Value::object([
            ("app_id", Value::string(ID)),
            ("app_name", Value::string("old")),
            (deletion_policy::ATTRIBUTE, Value::string("ABANDON")),
            ("timeouts", Value::object([("create", Value::string("1m"))])),
        ]);
        let mut state = AppModel::from_value(&current).unwrap();
        state.take_listed(&app(ID, "renamed"));
        let state = state.to_value();
        assert_eq!(state.get("app_name"), Some(&Value::string("renamed")));
        assert_eq!(state.get("org_id"), Some(&Value::string("org-1")));
        assert_eq!(
            state.get(deletion_policy::ATTRIBUTE),
            Some(&Value::string("ABANDON"))
        );
        assert!(state.get("timeouts").is_some_and(|t| !t.is_null()));
    }

    #[test]
    fn the_model_is_the_schema() {
        AppModel::check_schema(&schema().block).unwrap();
    }

    #[test]
    fn apps_are_found_by_uuid_whatever_its_spelling() {
        let apps = [app(ID, "a")];
        let upper = Uuid::parse_str(&ID.to_uppercase()).expect("uuid");
        assert!(find(&apps, upper).is_some());
        assert!(find(&apps, Uuid::nil()).is_none());
    }

    #[test]
    fn names_are_checked_offline_at_the_attribute() {
        let config = |name: &str| Value::object([("app_name", Value::string(name))]);
        let block = schema().block;
        let check = |name: &str| block.validate(&config(name));
        for bad in ["", "   ", &"x".repeat(201)] {
            let diags = check(bad);
            let diag = diags.iter().next().expect("an error");
            assert_eq!(diag.summary, "Invalid app_name");
            assert_eq!(diag.attribute, Some(AttrPath::root("app_name")), "{bad:?}");
        }
        assert!(check(&"é".repeat(200)).is_empty());
    }

    #[test]
    fn a_state_with_a_bad_app_id_says_it_came_from_the_state() {
        let state = Value::object([
            ("app_id", Value::string("nope")),
            ("app_name", Value::string("a")),
        ]);
        let diags = AppModel::from_value(&state)
            .unwrap()
            .app_id_in_state()
            .unwrap_err();
        let diag = diags.iter().next().expect("an error");
        assert!(
            diag.detail.contains("came from the state"),
            "{}",
            diag.detail
        );
        assert!(diag.detail.contains("app \"a\""), "{}", diag.detail);
    }
    #[tokio::test]
    async fn importing_a_huge_id_does_not_echo_it_in_full() {
        let huge = "x".repeat(100_000);
        let diags = AppResource
            .import(&Context::default(), ImportRequest::Id(huge))
            .await
            .unwrap_err();
        let diag = diags.iter().next().unwrap();
        assert_eq!(diag.summary, "Invalid app ID to import");
        assert!(diag.detail.len() < 1_000, "{}", diag.detail.len());
        assert!(
            diag.detail.contains("(100000 characters in all)"),
            "{}",
            diag.detail
        );
    }
}
