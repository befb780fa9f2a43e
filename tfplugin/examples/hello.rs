//! `hello`: the smallest useful provider on tfplugin. Its one resource,
//! `hello_greeting`, takes a `name` and computes `text`, "Hello, {name}!".
//! It keeps nothing outside Terraform's state, so there is no API to call:
//! create only works out the text, delete has nothing to remove.
//!
//! Terraform launches the binary itself (see tfplugin's README for the
//! `dev_overrides` that point it here); run by hand, it refuses to start.

use async_trait::async_trait;
use std::process::ExitCode;
use std::sync::Arc;
use tfplugin::framework::{ConfigureRequest, Configured};
use tfplugin::model::Maybe;
use tfplugin::server::{self, ServeOptions};
use tfplugin::typed::{Applied, TypedResource};
use tfplugin::validators;
use tfplugin::{
    Attribute, Block, Context, Diagnostic, Diagnostics, ImportRequest, Provider, Resource, Schema,
};

tfplugin::model! {
    /// A `hello_greeting` as planned or stored: one field per attribute.
    struct Greeting {
        /// Required, so never null once planned.
        name: String,
        /// Computed: unknown in the plan of a create, known in state.
        text: Maybe<String>,
    }
}

fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}

fn greeting_schema() -> Schema {
    let block = Block::new("A greeting, worked out by the provider.")
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                // Checked by the framework, with the attribute named, once
                // the value is known.
                .validator(validators::not_blank())
                .description("Who to greet. Changing it replaces the greeting."),
        )
        .attribute(
            Attribute::string("text")
                .computed()
                .use_state_for_unknown()
                .description("The greeting, `Hello, <name>!`."),
        );
    Schema::new(0, block)
}

struct GreetingResource;

/// Written against its model: the framework decodes the plan or state each
/// callback reads into a `Greeting`, and encodes the one it returns.
#[async_trait]
impl TypedResource for GreetingResource {
    type Model = Greeting;

    fn type_name(&self) -> &'static str {
        "hello_greeting"
    }

    fn schema(&self) -> Schema {
        greeting_schema()
    }

    async fn create(
        &self,
        _ctx: &Context,
        mut greeting: Greeting,
    ) -> Result<Applied<Greeting>, Diagnostics> {
        greeting.text = Maybe::Known(greet(&greeting.name));
        Ok(greeting.into())
    }

    async fn delete(&self, _ctx: &Context, _prior: Greeting) -> Result<Diagnostics, Diagnostics> {
        // Nothing exists outside the state: forgetting it is deleting it.
        Ok(Diagnostics::new())
    }

    /// `terraform import hello_greeting.x World`: the ID is the name.
    async fn import(
        &self,
        _ctx: &Context,
        request: ImportRequest,
    ) -> Result<Greeting, Diagnostics> {
        let ImportRequest::Id(name) = request else {
            // Without an identity schema the framework refuses these first.
            let detail = "Import a greeting by its name.";
            return Err(Diagnostic::error("Import by identity is not supported", detail).into());
        };
        let text = Maybe::Known(greet(&name));
        Ok(Greeting { name, text })
    }
}

struct HelloProvider;

#[async_trait]
impl Provider for HelloProvider {
    fn type_name(&self) -> &'static str {
        "hello"
    }

    /// The `provider "hello"` block takes no arguments.
    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Greets people, and keeps nothing anywhere else."),
        )
    }

    /// A real provider builds its API client here and returns it with
    /// `Configured::with(client)`; resources get it back with
    /// `ctx.provider_data::<Client>()`.
    async fn configure(&self, _ctx: &Context, _request: ConfigureRequest) -> Configured {
        Configured::default()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(GreetingResource)]
    }
}

fn main() -> ExitCode {
    let options = ServeOptions {
        // `--debug`: serve without Terraform, for a debugger, and print the
        // TF_REATTACH_PROVIDERS that lets Terraform attach to it.
        debug: std::env::args().any(|arg| arg == "--debug"),
        provider_address: "registry.terraform.io/example/hello".to_owned(),
        ..ServeOptions::default()
    };
    server::run(Arc::new(HelloProvider), options, env!("CARGO_CRATE_NAME"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::Model;
    use tfplugin::plan::plan;
    use tfplugin::{AttrPath, Value};

    #[test]
    fn the_model_matches_the_schema() {
        Greeting::check_schema(&greeting_schema().block).unwrap();
    }

    #[test]
    fn a_blank_name_is_refused_and_an_unknown_one_waits() {
        let block = greeting_schema().block;
        let config = |name| Value::object([("name", name), ("text", Value::Null)]);
        let check = |name| block.validate(&config(name));
        let refused = check(Value::string(" "));
        assert_eq!(
            refused.iter().next().map(|d| d.attribute.clone()),
            Some(Some(AttrPath::root("name")))
        );
        assert!(check(Value::Unknown).is_empty());
    }

    #[tokio::test]
    async fn create_works_out_the_text_through_the_model() {
        let planned = Value::object([("name", Value::string("Ada")), ("text", Value::Unknown)]);
        let outcome = Resource::create(
            &GreetingResource,
            &Context::default(),
            &planned,
            &Value::Null,
        )
        .await;
        let state = outcome.new_state.expect("a state");
        assert_eq!(state.field("text"), &Value::string("Hello, Ada!"));
    }

    #[test]
    fn a_new_name_replaces_the_greeting() {
        let block = greeting_schema().block;
        let prior = Greeting {
            name: "Ada".into(),
            text: Maybe::Known(greet("Ada")),
        };
        let config = Value::object([("name", Value::string("Bob")), ("text", Value::Null)]);
        // What Terraform proposes: the configuration, with the prior value of
        // the computed attribute it leaves unset.
        let proposed = Greeting {
            name: "Bob".into(),
            text: prior.text.clone(),
        };
        let planned = plan(&block, &prior.to_value(), &proposed.to_value(), &config);
        assert_eq!(planned.requires_replace, [AttrPath::root("name")]);
        assert!(planned.planned.field("text").is_unknown());
    }
}
