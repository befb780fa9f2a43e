//! `action "parallel_add_balance"`: adds prepaid balance to the access
//! token's organization, charging its default payment method (Terraform
//! 1.14 and later: `terraform apply -invoke=action.parallel_add_balance.NAME`).
//!
//! A charge is real money, so one invocation charges at most once: it uses
//! one idempotency key (configured, or generated for the invocation) for
//! every attempt, the client retries only when the API certainly did not
//! act, and after any other failure the error says the charge may have been
//! made and how to find out safely: invoke again with the same key, which
//! the API de-duplicates.

use crate::client::{
    AddBalanceError, ApiError, Balance, MAX_ADD_CENTS, MAX_IDEMPOTENCY_KEY_CHARS, MIN_ADD_CENTS,
    MIN_IDEMPOTENCY_KEY_CHARS,
};
use crate::journal::{Event, Operation, working_directory};
use crate::toolkit::{self, Attempt};
use async_trait::async_trait;
use serde_json::Number;
use tfplugin::model::{self, Maybe};
use tfplugin::typed::TypedAction;
use tfplugin::{Attribute, Block, Context, Diagnostic, Diagnostics, Progress, Schema, attr_path};
use uuid::Uuid;

pub const TYPE_NAME: &str = "parallel_add_balance";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
pub struct AddBalanceAction;

pub fn schema() -> Schema {
    let block = Block::new(
        "Adds prepaid balance to the organization of the access token, charging the \
         organization's default payment method (Parallel offers no choice of payment method). \
         Needs Terraform 1.14 or later; invoke it with `terraform apply \
         -invoke=action.parallel_add_balance.NAME`. One invocation charges at most once: every \
         retry of it sends the same `idempotency_key`, and Parallel de-duplicates on that key \
         for at least 24 hours. When a failure leaves it unknown whether the charge was made, \
         the error says so and shows the key: invoking again with that `idempotency_key` is \
         safe. An organization billed by invoice cannot add balance; the action checks this \
         before charging. The new balance is reported when the action completes.",
    )
    .attribute(
        Attribute::number("amount_cents")
            .required()
            .description("Amount to add, in US cents: a whole number from 1 to 10000 ($100.00)."),
    )
    .attribute(Attribute::string("idempotency_key").optional().description(
        "Key that makes the charge happen at most once, 8 to 128 characters. Parallel \
         de-duplicates charges with the same key for at least 24 hours. When not set, a new \
         random key (a UUID) is generated for each invocation, so every invocation is a new \
         charge; set it to the key an error showed to repeat an invocation that may or may not \
         have charged.",
    ));
    Schema::new(0, block)
}

tfplugin::model! {
    /// The action's configuration. The amount is kept as any number so a
    /// fraction gets this action's own error, not a generic one.
    #[derive(Debug)]
    pub struct AddBalanceConfig {
        pub amount_cents: Maybe<model::Number>,
        pub idempotency_key: Maybe<String>,
    }
}

/// What one invocation does, read from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    amount_cents: i64,
    idempotency_key: String,
    /// The key came from the configuration rather than being generated.
    key_configured: bool,
}

/// Checks whatever of the configuration is known; unknown values are
/// checked again at plan, when Terraform knows them.
fn check(config: &AddBalanceConfig) -> Diagnostics {
    let mut diags = Diagnostics::new();
    match &config.amount_cents {
        Maybe::Unknown | Maybe::Null => {}
        Maybe::Known(amount) => {
            if !amount
                .as_i64()
                .is_some_and(|n| (MIN_ADD_CENTS..=MAX_ADD_CENTS).contains(&n))
            {
                diags.push(
                    Diagnostic::error(
                        "Invalid amount_cents",
                        format!(
                            "amount_cents must be a whole number of cents from {MIN_ADD_CENTS} \
                             to {MAX_ADD_CENTS} ($100.00), the most Parallel adds at once."
                        ),
                    )
                    .at(attr_path!(AddBalanceConfig, amount_cents)),
                );
            }
        }
    }
    if let Maybe::Known(key) = &config.idempotency_key {
        let chars = key.chars().count();
        if !(MIN_IDEMPOTENCY_KEY_CHARS..=MAX_IDEMPOTENCY_KEY_CHARS).contains(&chars) {
            diags.push(
                Diagnostic::error(
                    "Invalid idempotency_key",
                    format!(
                        "idempotency_key must be {MIN_IDEMPOTENCY_KEY_CHARS} to \
                         {MAX_IDEMPOTENCY_KEY_CHARS} characters long; the configured one has \
                         {chars}. Leave it unset to have a new key generated for each \
                         invocation."
                    ),
                )
                .at(attr_path!(AddBalanceConfig, idempotency_key)),
            );
        }
    }
    diags
}

/// The invocation's request: the configured key, or a new one.
fn request(config: &AddBalanceConfig) -> Result<Request, Diagnostics> {
    let diags = check(config);
    if diags.has_errors() {
        return Err(diags);
    }
    let Some(amount_cents) = config.amount_cents.known().and_then(model::Number::as_i64) else {
        return Err(Diagnostic::error(
            "Incomplete configuration",
            "amount_cents must be known to add balance.",
        )
        .at(attr_path!(AddBalanceConfig, amount_cents))
        .into());
    };
    Ok(match &config.idempotency_key {
        Maybe::Known(key) => Request {
            amount_cents,
            idempotency_key: key.clone(),
            key_configured: true,
        },
        _ => Request {
            amount_cents,
            idempotency_key: Uuid::new_v4().to_string(),
            key_configured: false,
        },
    })
}

/// `$12.34`, from cents.
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

/// An amount as the API gave it: in dollars when a whole number of cents.
fn amount(cents: &Number) -> String {
    match cents.as_i64() {
        Some(whole) => dollars(whole),
        None => format!("{cents} cents"),
    }
}

fn balance_summary(balance: &Balance) -> String {
    format!(
        "{} credit, {} pending debits",
        amount(&balance.credit_balance_cents),
        amount(&balance.pending_debit_balance_cents)
    )
}

fn invoice_billed(org_id: &str) -> Diagnostic {
    Diagnostic::error(
        "Organization is billed by invoice",
        format!(
            "Organization {org_id} is billed by invoice (will_invoice is true), so Parallel \
             does not let it add prepaid balance. Nothing was charged. Its usage is invoiced \
             instead; remove the parallel_add_balance invocation, or use an access token of a \
             prepaid organization."
        ),
    )
}

/// The charge may or may not have been made: say how to find out safely.
fn may_have_charged(request: &Request, org_id: &str, err: &crate::client::ApiError) -> Diagnostic {
    let key = &request.idempotency_key;
    let again = if request.key_configured {
        format!("invoke the action again with the same idempotency_key ({key:?})")
    } else {
        format!(
            "set idempotency_key = {key:?} in the action's config block (the key generated for \
             this invocation) and invoke it again"
        )
    };
    Diagnostic::error(
        "Balance may have been added",
        format!(
            "Adding {} to the balance of organization {org_id} with idempotency key {key:?} \
             failed in a way that leaves it unknown whether the charge was made: {err}. It was \
             not retried after this failure. To find out without risking a second charge, \
             {again} within 24 hours: Parallel de-duplicates charges on that key, so if this \
             one was made it is not repeated, and the action reports the balance.",
            dollars(request.amount_cents)
        ),
    )
    .at(attr_path!(AddBalanceConfig, idempotency_key))
}

/// Recorded in the journal before the charge is sent.
fn charge_sent(request: &Request) -> Operation {
    Operation::begin(Event::ChargeSent {
        idempotency_key: request.idempotency_key.clone(),
        amount_cents: request.amount_cents.unsigned_abs(),
        working_directory: working_directory(),
    })
}

/// What the answer to a charge says happened. Parallel answers a repeated
/// idempotency key with the earlier charge's outcome, charging nothing:
/// only a balance that moved by the amount was charged now.
fn charged(request: &Request, before: &Balance, after: &Balance) -> String {
    let added = dollars(request.amount_cents);
    let now = format!(
        "Balance of organization {} is now {}",
        after.org_id,
        balance_summary(after)
    );
    let moved = match (
        before.credit_balance_cents.as_f64(),
        after.credit_balance_cents.as_f64(),
    ) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let amount = request.amount_cents as f64;
    match moved {
        Some(moved) if (moved - amount).abs() < 0.5 => format!("Added {added}. {now}"),
        Some(moved) if moved.abs() < 0.5 => format!(
            "Nothing new was charged: idempotency key {:?} was already charged {added} within \
             the last 24 hours, and Parallel answered with that charge's outcome. {now}",
            request.idempotency_key
        ),
        _ => format!(
            "Parallel answered the charge of {added} with idempotency key {:?}, but the \
             balance did not move by that amount (other activity meanwhile, or the answer to \
             an earlier charge with this key). {now}",
            request.idempotency_key
        ),
    }
}

/// A 409: the key was used before for a charge of another amount.
fn key_used_for_another_amount(request: &Request, err: &ApiError) -> Diagnostic {
    Diagnostic::error(
        "Idempotency key already used for another amount",
        format!(
            "Parallel refused to add {} with idempotency key {:?}: that key was already used \
             for a charge of a different amount within the last 24 hours ({err}). Nothing new \
             was charged. Use a new idempotency_key (or leave it unset to generate one), or \
             invoke with the amount first charged under this key to see that charge's outcome.",
            dollars(request.amount_cents),
            request.idempotency_key
        ),
    )
    .at(attr_path!(AddBalanceConfig, idempotency_key))
}

#[async_trait]
impl TypedAction for AddBalanceAction {
    type Config = AddBalanceConfig;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &AddBalanceConfig) -> Diagnostics {
        check(config)
    }

    fn plan(&self, config: &AddBalanceConfig) -> Diagnostics {
        check(config)
    }

    async fn invoke(
        &self,
        ctx: &Context,
        config: AddBalanceConfig,
        progress: &Progress,
    ) -> Result<Diagnostics, Diagnostics> {
        let request = request(&config)?;
        let api = toolkit::api(ctx)?;
        let added = dollars(request.amount_cents);

        progress
            .report("Reading the organization's balance and billing")
            .await;
        let before = api.client.balance(&ctx.cancel).await.map_err(|err| {
            toolkit::api_error(
                &err,
                Attempt::new(
                    "Reading the organization's balance before adding to it (nothing was \
                     charged)",
                ),
            )
        })?;
        if before.will_invoice {
            return Err(invoice_billed(&before.org_id).into());
        }
        let org_id = before.org_id.clone();
        progress
            .report(format!(
                "Balance of organization {org_id} before: {}. Charging {added} ({} cents) to \
                 its default payment method with idempotency key {:?}{}",
                balance_summary(&before),
                request.amount_cents,
                request.idempotency_key,
                if request.key_configured {
                    ""
                } else {
                    " (generated for this invocation)"
                },
            ))
            .await;
        tracing::debug!(
            amount_cents = request.amount_cents,
            idempotency_key = %request.idempotency_key,
            "adding balance"
        );
        let journal = charge_sent(&request);
        let result = api
            .client
            .add_balance(request.amount_cents, &request.idempotency_key, &ctx.cancel)
            .await;
        match &result {
            Ok(after) => journal.record(Event::ChargeAnswered {
                credit_balance_cents: after.credit_balance_cents.as_f64(),
            }),
            Err(AddBalanceError::NotCharged(_)) => journal.record(Event::NothingDone),
            // Unknown: the error Terraform is about to show names the key.
            Err(AddBalanceError::MayHaveCharged(_)) => {}
        }
        // Settled once Terraform has the outcome; if it never does (killed,
        // or stopped before the answer), the next run names the charge.
        ctx.delivery.on_delivery(move |delivered| {
            if delivered {
                journal.record(Event::Handed);
            }
        });
        let failed = match result {
            Ok(after) => {
                progress.report(charged(&request, &before, &after)).await;
                return Ok(Diagnostics::new());
            }
            Err(AddBalanceError::NotCharged(err @ ApiError::Status { status: 409, .. })) => {
                key_used_for_another_amount(&request, &err).into()
            }
            Err(AddBalanceError::NotCharged(err)) => toolkit::api_error(
                &err,
                Attempt::new(&format!(
                    "Adding {added} to the balance of organization {org_id} (nothing was \
                         charged)"
                ))
                .attributes(&["amount_cents", "idempotency_key"]),
            ),
            Err(AddBalanceError::MayHaveCharged(err)) => {
                may_have_charged(&request, &org_id, &err).into()
            }
        };
        Err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiError;
    use tfplugin::Value;
    use tfplugin::model::Model;

    fn config(amount: Value, key: Value) -> AddBalanceConfig {
        AddBalanceConfig::from_value(&Value::object([
            ("amount_cents", amount),
            ("idempotency_key", key),
        ]))
        .unwrap()
    }

    #[test]
    fn the_model_is_the_schema() {
        AddBalanceConfig::check_schema(&schema().block).unwrap();
    }

    fn attributes(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn amounts_outside_1_to_10000_cents_are_named() {
        for bad in [
            Value::number(0),
            Value::number(10_001),
            Value::number(-5),
            Value::number(tfplugin::value::Number::from_f64(2.5).expect("finite")),
        ] {
            let diags = check(&config(bad, Value::Null));
            assert_eq!(attributes(&diags), ["amount_cents"]);
        }
        for good in [1, 500, 10_000] {
            assert!(check(&config(Value::number(good), Value::Null)).is_empty());
        }
    }

    #[test]
    fn idempotency_keys_of_the_wrong_length_are_named() {
        for bad in ["short", "1234567", &"k".repeat(129)] {
            let diags = check(&config(Value::number(5), Value::string(bad)));
            assert_eq!(attributes(&diags), ["idempotency_key"], "{bad}");
        }
        for good in ["12345678", &"k".repeat(128), "ééééééééé"] {
            assert!(check(&config(Value::number(5), Value::string(good))).is_empty());
        }
    }

    #[test]
    fn unknown_values_wait_for_plan() {
        assert!(check(&config(Value::Unknown, Value::Unknown)).is_empty());
    }

    #[test]
    fn a_missing_key_is_generated_per_invocation() {
        let cfg = config(Value::number(500), Value::Null);
        let (a, b) = (request(&cfg).expect("valid"), request(&cfg).expect("valid"));
        assert_ne!(a.idempotency_key, b.idempotency_key);
        assert!(!a.key_configured);
        assert!(Uuid::parse_str(&a.idempotency_key).is_ok());
        let given =
            request(&config(Value::number(500), Value::string("topup-2024-11"))).expect("valid");
        assert_eq!(given.idempotency_key, "topup-2024-11");
        assert!(given.key_configured);
    }

    #[test]
    fn amounts_read_as_dollars() {
        assert_eq!(dollars(500), "$5.00");
        assert_eq!(dollars(10_000), "$100.00");
        assert_eq!(dollars(7), "$0.07");
        assert_eq!(dollars(-250), "-$2.50");
        assert_eq!(
            amount(&Number::from_f64(12.5).expect("finite")),
            "12.5 cents"
        );
    }

    #[test]
    fn an_ambiguous_failure_shows_the_key_and_says_repeating_it_is_safe() {
        let generated = request(&config(Value::number(500), Value::Null)).expect("valid");
        let err = ApiError::Timeout {
            after: std::time::Duration::from_secs(30),
        };
        let diag = may_have_charged(&generated, "org_1", &err);
        assert!(
            diag.detail.contains(&generated.idempotency_key),
            "{}",
            diag.detail
        );
        assert!(
            diag.detail.contains("set idempotency_key ="),
            "{}",
            diag.detail
        );
        assert!(diag.detail.contains("not repeated"), "{}", diag.detail);
        let configured = Request {
            key_configured: true,
            ..generated
        };
        let diag = may_have_charged(&configured, "org_1", &err);
        assert!(
            diag.detail.contains("with the same idempotency_key"),
            "{}",
            diag.detail
        );
    }

    #[test]
    fn only_a_balance_that_moved_by_the_amount_was_added() {
        let request =
            request(&config(Value::number(500), Value::string("topup-0001"))).expect("valid");
        let balance = |cents: i64| Balance {
            org_id: "org_1".into(),
            credit_balance_cents: Number::from(cents),
            pending_debit_balance_cents: Number::from(0),
            will_invoice: false,
        };
        let added = charged(&request, &balance(1_000), &balance(1_500));
        assert!(added.starts_with("Added $5.00."), "{added}");
        let replayed = charged(&request, &balance(1_500), &balance(1_500));
        assert!(
            replayed.starts_with("Nothing new was charged"),
            "{replayed}"
        );
        assert!(!replayed.contains("Added"), "{replayed}");
        let odd = charged(&request, &balance(1_000), &balance(1_200));
        assert!(odd.contains("did not move by that amount"), "{odd}");
    }
}
