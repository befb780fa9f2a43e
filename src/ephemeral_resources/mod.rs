//! One file per ephemeral resource type (Terraform 1.10 and later). A new
//! one is registered here: its `mod` line and its line in `all`.

pub mod abandoned;
pub mod api_key;

use std::sync::Arc;
use tfplugin::EphemeralResource;

/// Every ephemeral resource type the provider serves.
pub fn all() -> Vec<Arc<dyn EphemeralResource>> {
    vec![Arc::new(api_key::EphemeralApiKey::default())]
}
