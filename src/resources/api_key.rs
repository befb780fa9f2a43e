//! `parallel_api_key`: an API key of a Parallel app.
//!
//! The API shows a key's secret exactly once, in the answer to its
//! creation, and cannot read a key back. So the state is the only record:
//! reads are served from it, every configurable attribute forces
//! replacement, and whatever a create returns is saved even when part of
//! the answer is wrong.

use super::timeouts::{self, Operation};
use crate::client::{AccountClient, ApiError, CreateKeyError, Deletion, PartialKey};
use async_trait::async_trait;
use std::time::Duration;
use tfplugin::{
    ApplyOutcome, AttrPath, Attribute, Block, Context, Diagnostic, Diagnostics, IdentityAttribute,
    IdentitySchema, ImportRequest, Nesting, Resource, Schema, Type, Value, json,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const TYPE_NAME: &str = "parallel_api_key";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
pub struct ApiKeyResource;

/// A computed string that, like every computed value here, is fixed at
/// creation and kept until the key is replaced.
fn computed_string(name: &'static str, description: &'static str) -> Attribute {
    Attribute::string(name)
        .computed()
        .use_state_for_unknown()
        .description(description)
}

pub fn schema() -> Schema {
    let block = Block::new(
        "An API key of a Parallel app. The key's secret (`raw_api_key`) is returned by the API \
         only when the key is created and is kept in state as a sensitive value; destroying the \
         resource revokes the key. Changing any argument creates a new key (use `keepers` and \
         `create_before_destroy` to rotate without a gap).",
    )
    .attribute(
        Attribute::string("app_id")
            .required()
            .requires_replace()
            .description("ID (a UUID) of the Parallel app the key belongs to. Changing it creates a new key."),
    )
    .attribute(
        Attribute::string("api_key_name")
            .required()
            .requires_replace()
            .description("Name of the key, shown in the Parallel platform. Changing it creates a new key."),
    )
    .attribute(
        Attribute::of_type("keepers", Type::Map(Box::new(Type::String)))
            .optional()
            .requires_replace()
            .description(
                "Arbitrary values that, when changed, create a new key (rotation). For example \
                 a date or a version number; combine with `lifecycle { create_before_destroy = \
                 true }` so the new key exists before the old one is revoked.",
            ),
    )
    .attribute(computed_string("id", "Same as `api_key_id`."))
    .attribute(computed_string("api_key_id", "ID of the key, assigned by Parallel."))
    .attribute(computed_string("app_name", "Name of the app the key belongs to."))
    .attribute(computed_string("created_by_user_id", "ID of the user the access token belongs to, who created the key."))
    .attribute(computed_string("created_by_user_email", "Email address of the user who created the key."))
    .attribute(computed_string(
        "display_value",
        "A masked form of the key, safe to show, to recognise it in the Parallel platform.",
    ))
    .attribute(
        computed_string(
            "raw_api_key",
            "The API key itself (sensitive). Parallel returns it only at creation; it is kept \
             in state, so protect the state. Hand it to other resources or outputs as \
             `parallel_api_key.NAME.raw_api_key`.",
        )
        .sensitive(),
    )
    .attribute(
        Attribute::number("created_at")
            .computed()
            .use_state_for_unknown()
            .description("When the key was created, as returned by the API (Unix timestamp)."),
    )
    .block("timeouts", Nesting::Single, timeouts::block());
    Schema::new(0, block)
}

#[async_trait]
impl Resource for ApiKeyResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// Terraform 1.12 and later store this beside the state: the app and the
    /// key's ID name one key for good.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new(
            0,
            vec![
                IdentityAttribute::required("app_id", Type::String)
                    .description("ID of the app the key belongs to."),
                IdentityAttribute::required("api_key_id", Type::String)
                    .description("ID of the key."),
            ],
        ))
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Value::String(app_id) = config.field("app_id")
            && Uuid::parse_str(app_id).is_err()
        {
            diags.push(
                Diagnostic::error(
                    "Invalid app_id",
                    "app_id must be the UUID of a Parallel app, such as \
                     \"3fa85f64-5717-4562-b3fc-2c963f66afa6\"; the configured value is not a UUID. \
                     To find an app's ID by its name, use data \"parallel_app\" { app_name = \"...\" } \
                     and set app_id = data.parallel_app.NAME.app_id.",
                )
                .at(AttrPath::root("app_id")),
            );
        }
        if let Value::String(name) = config.field("api_key_name")
            && name.trim().is_empty()
        {
            diags.push(
                Diagnostic::error(
                    "Invalid api_key_name",
                    "api_key_name must not be empty: it is how the key is recognised in \
                         the Parallel platform.",
                )
                .at(AttrPath::root("api_key_name")),
            );
        }
        diags.extend(timeouts::validate(config));
        diags
    }

    async fn create(&self, ctx: &Context, planned: &Value, _config: &Value) -> ApplyOutcome {
        let client = match ctx.provider_data::<AccountClient>() {
            Ok(client) => client,
            Err(diags) => return ApplyOutcome::failed(diags),
        };
        let (Value::String(app_id_text), Value::String(name)) =
            (planned.field("app_id"), planned.field("api_key_name"))
        else {
            return ApplyOutcome::failed(Diagnostic::error(
                "Incomplete configuration",
                "app_id and api_key_name must be known to create a key.",
            ));
        };
        let Ok(app_id) = Uuid::parse_str(app_id_text) else {
            return ApplyOutcome::failed(invalid_app_id());
        };
        let limit = timeouts::limit(planned, Operation::Create);
        let deadline = Deadline::start(&ctx.cancel, limit);
        tracing::debug!(%app_id, "creating API key");
        let result = client.create_key(app_id, name, deadline.token()).await;
        let timed_out = deadline.timed_out();
        match result {
            Ok(key) => ApplyOutcome::state(state_from_key(planned, key.into())),
            Err(CreateKeyError::Incomplete { key, problem }) => ApplyOutcome {
                new_state: Some(state_from_key(planned, key)),
                private: Vec::new(),
                diagnostics: Diagnostic::error(
                    "API key created, but Parallel's answer was incomplete",
                    format!(
                        "Parallel created the key, but {problem}. Everything that could be read \
                         was saved in state so the key is not lost; Terraform marks it tainted, \
                         so the next apply revokes it and creates a new one."
                    ),
                )
                .into(),
            },
            Err(CreateKeyError::NotCreated(err)) => {
                ApplyOutcome::failed(api_error(&err, app_id_text, timed_out.then_some(limit)))
            }
            // A create already sent is never abandoned (its answer is the
            // only copy of the key), so this is a failure of the request
            // itself, not of the operation's deadline.
            Err(CreateKeyError::MayHaveCreated(err)) => ApplyOutcome::failed(Diagnostic::error(
                "API key may have been created",
                format!(
                    "Creating the key failed in a way that leaves it unknown whether Parallel \
                     created it: {err}. It was not retried after this failure, so no duplicate \
                     was made. Check the keys of app {app_id_text} in the Parallel platform and \
                     revoke any key named {name:?} that Terraform does not know about, then \
                     apply again."
                ),
            )),
        }
    }

    async fn delete(&self, ctx: &Context, prior: &Value) -> Diagnostics {
        let (Value::String(app_id_text), Value::String(key_id)) =
            (prior.field("app_id"), prior.field("api_key_id"))
        else {
            return Diagnostic::warning(
                "API key not revoked",
                "The state records no key ID for this key (its creation answer was incomplete), \
                 so it cannot be revoked from here. Revoke it in the Parallel platform.",
            )
            .into();
        };
        let Ok(app_id) = Uuid::parse_str(app_id_text) else {
            return invalid_app_id().into();
        };
        let client = match ctx.provider_data::<AccountClient>() {
            Ok(client) => client,
            Err(diags) => return diags,
        };
        let limit = timeouts::limit(prior, Operation::Delete);
        let deadline = Deadline::start(&ctx.cancel, limit);
        tracing::debug!(%app_id, api_key_id = %key_id, "revoking API key");
        let result = client.delete_key(app_id, key_id, deadline.token()).await;
        let timed_out = deadline.timed_out();
        match result {
            Ok(Deletion::Revoked) => Diagnostics::new(),
            Ok(Deletion::AlreadyGone) => {
                tracing::info!(api_key_id = %key_id, "API key was already revoked");
                Diagnostics::new()
            }
            Err(err) => api_error(&err, app_id_text, timed_out.then_some(limit)),
        }
    }

    /// Import is refused the same way whether asked by ID or by identity.
    async fn import(&self, _ctx: &Context, _request: ImportRequest) -> Result<Value, Diagnostics> {
        Err(Diagnostic::error(
            "parallel_api_key cannot be imported",
            "Parallel returns a key's secret only once, when the key is created, and cannot \
             read a key back (not even its name), so Terraform could never know an existing \
             key's raw_api_key. Let Terraform create a new key with this resource, move your \
             systems to it, and revoke the old key in the Parallel platform.",
        )
        .into())
    }
}

fn invalid_app_id() -> Diagnostic {
    Diagnostic::error(
        "Invalid app_id",
        "app_id must be the UUID of a Parallel app; this value is not a UUID.",
    )
    .at(AttrPath::root("app_id"))
}

/// Turns an API failure into a diagnostic that names the attribute at
/// fault where the API said which one it was.
fn api_error(err: &ApiError, app_id: &str, timed_out_after: Option<Duration>) -> Diagnostics {
    match err {
        ApiError::Validation { problems } => problems
            .iter()
            .map(|problem| {
                let diag = Diagnostic::error(
                    "Parallel rejected the request",
                    format!("{}. Fix the value and apply again.", problem.msg),
                );
                match problem.loc.last().map(String::as_str) {
                    Some(name @ ("app_id" | "api_key_name")) => diag.at(AttrPath::root(name)),
                    _ => diag,
                }
            })
            .collect(),
        ApiError::NotFound { .. } if err.is_object_not_found() => Diagnostic::error(
            "App not found",
            format!(
                "Parallel has no app {app_id} that this access token can see ({err}). Check \
                 app_id, and that the token belongs to the app's organization."
            ),
        )
        .at(AttrPath::root("app_id"))
        .into(),
        ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
            Diagnostic::error("Parallel access token rejected", err.to_string()).into()
        }
        ApiError::Cancelled => match timed_out_after {
            Some(limit) => Diagnostic::error(
                "Operation timed out",
                format!(
                    "The operation did not finish within its timeout ({}). Raise it in the \
                     resource's timeouts block, or check connectivity to the API.",
                    humantime::format_duration(limit)
                ),
            )
            .into(),
            None => Diagnostic::error("Operation cancelled", err.to_string()).into(),
        },
        _ => Diagnostic::error("Parallel API request failed", err.to_string()).into(),
    }
}

/// The new state: the planned values for what the user configured, the
/// API's answer for everything computed (null where the answer lacked it).
fn state_from_key(planned: &Value, key: PartialKey) -> Value {
    // The plan of a create is always an object; should it ever not be, the
    // key still goes to state (built from the answer alone).
    let mut fields = match planned {
        Value::Object(fields) => fields.clone(),
        _ => Default::default(),
    };
    let text = |s: Option<String>| s.map_or(Value::Null, Value::String);
    fields.insert("id".into(), text(key.api_key_id.clone()));
    fields.insert("api_key_id".into(), text(key.api_key_id));
    fields.insert("app_name".into(), text(key.app_name));
    fields.insert("created_by_user_id".into(), text(key.created_by_user_id));
    fields.insert(
        "created_by_user_email".into(),
        text(key.created_by_user_email),
    );
    fields.insert("display_value".into(), text(key.display_value));
    fields.insert(
        "raw_api_key".into(),
        text(key.raw_api_key.map(|s| s.expose().to_owned())),
    );
    let created_at = key
        .created_at
        .and_then(|n| json::from_json_value(&serde_json::Value::Number(n), &Type::Number).ok())
        .unwrap_or(Value::Null);
    fields.insert("created_at".into(), created_at);
    Value::Object(fields)
}

/// A cancellation token that fires on Ctrl-C (StopProvider) or when the
/// operation's time limit passes, whichever comes first.
struct Deadline {
    token: CancellationToken,
    timer: tokio::task::JoinHandle<()>,
}

impl Deadline {
    fn start(stop: &CancellationToken, limit: Duration) -> Self {
        let token = stop.child_token();
        let expire = token.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            expire.cancel();
        });
        Deadline { token, timer }
    }

    fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether it was the time limit that fired.
    fn timed_out(&self) -> bool {
        self.timer.is_finished()
    }
}

impl Drop for Deadline {
    /// However the operation ends, its timer goes with it.
    fn drop(&mut self) {
        self.timer.abort();
    }
}
