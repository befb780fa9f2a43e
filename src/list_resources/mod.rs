//! One file per list resource type (`terraform query`, Terraform 1.14). A
//! new one is registered here: its `mod` line and its line in `all`.

pub mod app;

use std::sync::Arc;
use tfplugin::ListResource;

/// Every list resource type the provider serves.
pub fn all() -> Vec<Arc<dyn ListResource>> {
    vec![Arc::new(app::AppList)]
}
