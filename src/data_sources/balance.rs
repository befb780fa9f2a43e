//! `data "parallel_balance"`: the prepaid balance of the access token's
//! organization, for checks, outputs and top-up decisions.

use crate::client::Balance;
use crate::toolkit::{self, Attempt};
use async_trait::async_trait;
use tfplugin::model::{NoArguments, Number};
use tfplugin::typed::TypedDataSource;
use tfplugin::{Attribute, Block, Context, Diagnostics, Schema};

pub const TYPE_NAME: &str = "parallel_balance";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
pub struct BalanceDataSource;

pub fn schema() -> Schema {
    let block = Block::new(
        "The prepaid balance of the organization that the access token belongs to. It takes \
         no arguments and is read again at every plan. Amounts are in US cents; an \
         organization billed by invoice (`will_invoice`) shows 0 for both amounts. To add \
         balance, invoke the `parallel_add_balance` action.",
    )
    .attribute(
        Attribute::string("org_id")
            .computed()
            .description("ID of the organization."),
    )
    .attribute(
        Attribute::number("credit_balance_cents")
            .computed()
            .description("Prepaid credit available, in cents (0 when `will_invoice`)."),
    )
    .attribute(
        Attribute::number("pending_debit_balance_cents")
            .computed()
            .description(
                "Usage not yet debited from the credit, in cents (0 when `will_invoice`).",
            ),
    )
    .attribute(Attribute::bool("will_invoice").computed().description(
        "Whether the organization is billed by invoice. Such an organization cannot add \
         balance.",
    ));
    Schema::new(0, block)
}

tfplugin::model! {
    /// What the data source answers.
    #[derive(Debug)]
    pub struct BalanceModel {
        pub org_id: String,
        /// Null only if the API sent a number cty cannot hold.
        pub credit_balance_cents: Option<Number>,
        pub pending_debit_balance_cents: Option<Number>,
        pub will_invoice: bool,
    }
}

impl From<&Balance> for BalanceModel {
    fn from(balance: &Balance) -> Self {
        // serde_json keeps the answer's digits; cty numbers take them as
        // written.
        let number = |n: &serde_json::Number| Number::parse(&n.to_string()).ok();
        BalanceModel {
            org_id: balance.org_id.clone(),
            credit_balance_cents: number(&balance.credit_balance_cents),
            pending_debit_balance_cents: number(&balance.pending_debit_balance_cents),
            will_invoice: balance.will_invoice,
        }
    }
}

#[async_trait]
impl TypedDataSource for BalanceDataSource {
    type Config = NoArguments;
    type Model = BalanceModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &Context, _: NoArguments) -> Result<BalanceModel, Diagnostics> {
        let api = toolkit::api(ctx)?;
        let balance = api.client.balance(&ctx.cancel).await.map_err(|err| {
            toolkit::api_error(&err, Attempt::new("Reading the organization's balance"))
        })?;
        Ok(BalanceModel::from(&balance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Value;
    use tfplugin::model::Model;

    #[test]
    fn a_balance_fills_every_attribute_with_its_type() {
        let balance = Balance {
            org_id: "org_1".into(),
            credit_balance_cents: 1500.into(),
            pending_debit_balance_cents: serde_json::Number::from_f64(25.5).expect("finite"),
            will_invoice: false,
        };
        let value = BalanceModel::from(&balance).to_value();
        assert_eq!(value.get("org_id").and_then(Value::as_str), Some("org_1"));
        assert_eq!(
            value.get("credit_balance_cents").and_then(Value::as_i64),
            Some(1500)
        );
        assert_eq!(
            value
                .get("pending_debit_balance_cents")
                .and_then(Value::as_number)
                .map(|n| n.as_f64()),
            Some(25.5)
        );
        assert_eq!(
            value.get("will_invoice").and_then(Value::as_bool),
            Some(false)
        );
        BalanceModel::check_schema(&schema().block).unwrap();
    }
}
