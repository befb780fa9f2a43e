//! The typed adapters seen from the framework's side: what each raw call
//! hands the typed callback, and what it makes of the answer.

use super::{Opened, TypedAction, TypedDataSource, TypedEphemeralResource, TypedListResource};
use crate::action::{Action, Progress};
use crate::context::Context;
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{DataSource, EphemeralResource};
use crate::list::{ListItem, ListRequest, ListResource, ListSink};
use crate::model::{Maybe, NoArguments};
use crate::schema::{Attribute, Block, Schema};
use crate::value::Value;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

crate::model! {
    #[derive(Debug, PartialEq)]
    struct Named {
        name: String,
    }
}

crate::model! {
    #[derive(Debug, PartialEq)]
    struct Greeting {
        name: Maybe<String>,
        text: Maybe<String>,
    }
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("A test object.").attribute(Attribute::string("name").required()),
    )
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn blank_name() -> Diagnostics {
    Diagnostic::error("Blank name", "name is blank").into()
}

struct Greeter;

#[async_trait]
impl TypedDataSource for Greeter {
    type Config = Named;
    type Model = Greeting;

    fn type_name(&self) -> &'static str {
        "test_greeting"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Named) -> Diagnostics {
        if config.name.is_empty() {
            blank_name()
        } else {
            Diagnostics::new()
        }
    }

    async fn read(&self, _ctx: &Context, config: Named) -> Result<Greeting, Diagnostics> {
        Ok(Greeting {
            text: Maybe::Known(format!("Hello, {}!", config.name)),
            name: Maybe::Known(config.name),
        })
    }
}

#[test]
fn a_data_source_reads_its_config_as_a_model_and_answers_one() {
    let config = Value::object([("name", Value::string("World"))]);
    let read = run(DataSource::read(&Greeter, &Context::default(), &config)).expect("read");
    assert_eq!(read.field("text"), &Value::string("Hello, World!"));
    // validate checks what decodes, and leaves a still-unknown value for
    // the read that needs it.
    let blank = Value::object([("name", Value::string(""))]);
    assert_eq!(DataSource::validate(&Greeter, &blank), blank_name());
    let unknown = Value::object([("name", Value::Unknown)]);
    assert!(DataSource::validate(&Greeter, &unknown).is_empty());
    assert!(run(DataSource::read(&Greeter, &Context::default(), &unknown)).is_err());
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Lease {
    id: String,
}

#[derive(Default)]
struct Leaser {
    closed: Mutex<Vec<String>>,
}

#[async_trait]
impl TypedEphemeralResource for Leaser {
    type Config = NoArguments;
    type Model = Greeting;
    type Private = Lease;

    fn type_name(&self) -> &'static str {
        "test_lease"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn open(
        &self,
        _ctx: &Context,
        _config: NoArguments,
    ) -> Result<Opened<Greeting, Lease>, Diagnostics> {
        Ok(Opened {
            result: Greeting {
                name: Maybe::Known("lease".into()),
                text: Maybe::Null,
            },
            private: Lease { id: "l-1".into() },
            renew_at: None,
        })
    }

    async fn close(&self, _ctx: &Context, lease: Lease) -> Diagnostics {
        self.closed.lock().expect("lock").push(lease.id);
        Diagnostics::new()
    }
}

#[test]
fn an_ephemeral_resource_gets_back_the_private_data_it_opened_with() {
    let leaser = Leaser::default();
    let ctx = Context::default();
    let opened = run(EphemeralResource::open(
        &leaser,
        &ctx,
        &Value::object([("name", Value::Null)]),
    ))
    .expect("opened");
    assert_eq!(opened.result.field("name"), &Value::string("lease"));
    assert!(run(EphemeralResource::close(&leaser, &ctx, &opened.private)).is_empty());
    assert_eq!(*leaser.closed.lock().expect("lock"), ["l-1"]);
    // Bytes its open did not write are said to be unreadable; close is
    // not called with a guess.
    let unreadable = run(EphemeralResource::close(&leaser, &ctx, b"not json"));
    assert_eq!(
        unreadable.iter().next().map(|d| d.summary.as_str()),
        Some("Unreadable private data")
    );
    assert_eq!(leaser.closed.lock().expect("lock").len(), 1);
}

struct Lister;

#[async_trait]
impl TypedListResource for Lister {
    type Config = Named;

    fn type_name(&self) -> &'static str {
        "test_greeting"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn list(
        &self,
        _ctx: &Context,
        config: Named,
        _limit: u64,
        sink: &ListSink,
    ) -> Result<(), Diagnostics> {
        let item = ListItem {
            display_name: config.name.clone(),
            state: Value::object([("name", Value::string(&config.name))]),
        };
        sink.push(item).await;
        Err(blank_name())
    }
}

#[test]
fn a_listing_error_comes_after_what_it_pushed() {
    let (sender, mut items) = tokio::sync::mpsc::channel(4);
    let config = Value::object([("name", Value::string("a"))]);
    let request = ListRequest {
        config: &config,
        limit: 10,
    };
    let diags = run(ListResource::list(
        &Lister,
        &Context::default(),
        request,
        &ListSink::new(sender),
    ));
    assert_eq!(diags, blank_name());
    assert_eq!(items.try_recv().expect("an item").display_name, "a");
}

struct Charger;

#[async_trait]
impl TypedAction for Charger {
    type Config = Named;

    fn type_name(&self) -> &'static str {
        "test_charge"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn plan(&self, config: &Named) -> Diagnostics {
        if config.name.is_empty() {
            blank_name()
        } else {
            Diagnostics::new()
        }
    }

    async fn invoke(
        &self,
        _ctx: &Context,
        config: Named,
        _progress: &Progress,
    ) -> Result<Diagnostics, Diagnostics> {
        if config.name == "fail" {
            Err(blank_name())
        } else {
            Ok(Diagnostic::warning("Charged", "a warning of a success").into())
        }
    }
}

#[test]
fn an_action_ends_with_its_warnings_or_its_errors() {
    let (sender, _messages) = tokio::sync::mpsc::channel(4);
    let progress = Progress::new(sender);
    let invoke = |name: &str| {
        let config = Value::object([("name", Value::string(name))]);
        run(Action::invoke(
            &Charger,
            &Context::default(),
            &config,
            &progress,
        ))
    };
    assert!(!invoke("ok").has_errors());
    assert_eq!(invoke("ok").iter().count(), 1);
    assert_eq!(invoke("fail"), blank_name());
    // A plan's config that does not decode is an error there: every value
    // is known by then.
    let null = Value::object([("name", Value::Null)]);
    assert!(Action::plan(&Charger, &null).has_errors());
    let blank = Value::object([("name", Value::string(""))]);
    assert_eq!(Action::plan(&Charger, &blank), blank_name());
}
