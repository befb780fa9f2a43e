//! One file per action type (Terraform 1.14 and later). A new one is
//! registered here: its `mod` line and its line in `all`.

pub mod add_balance;

use std::sync::Arc;
use tfplugin::Action;

/// Every action type the provider serves.
pub fn all() -> Vec<Arc<dyn Action>> {
    vec![Arc::new(add_balance::AddBalanceAction)]
}
