//! One file (or folder) per resource type. A new one is registered here:
//! its `mod` line and its line in `all`.

pub mod api_key;
pub mod app;
pub mod rotating_api_key;

use std::sync::Arc;
use tfplugin::Resource;

/// Every resource type the provider serves.
pub fn all() -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(api_key::ApiKeyResource),
        Arc::new(app::AppResource),
        Arc::new(rotating_api_key::RotatingApiKeyResource),
    ]
}
