//! One file per data source type. A new one is registered here: its `mod`
//! line and its line in `all`.

pub mod app;
pub mod apps;
pub mod balance;

use std::sync::Arc;
use tfplugin::DataSource;

/// Every data source type the provider serves.
pub fn all() -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(app::AppDataSource),
        Arc::new(apps::AppsDataSource),
        Arc::new(balance::BalanceDataSource),
    ]
}
