//! The parts of `terraform providers schema -json` the docs are made of.
//! Maps are `BTreeMap`s, so every listing comes out sorted by name whatever
//! order Terraform printed it in.

use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
pub struct Document {
    pub format_version: String,
    #[serde(default)]
    pub provider_schemas: BTreeMap<String, ProviderSchemas>,
}

/// One provider's schemas. Keys absent from older Terraform releases
/// (ephemeral resources from 1.10, identities from 1.12, list resources and
/// actions from 1.14) default to empty.
#[derive(Debug, Default, Deserialize)]
pub struct ProviderSchemas {
    pub provider: Option<Schema>,
    #[serde(default)]
    pub resource_schemas: BTreeMap<String, Schema>,
    #[serde(default)]
    pub data_source_schemas: BTreeMap<String, Schema>,
    #[serde(default)]
    pub ephemeral_resource_schemas: BTreeMap<String, Schema>,
    #[serde(default)]
    pub list_resource_schemas: BTreeMap<String, Schema>,
    /// An action's entry also says how it is triggered; only its block is
    /// documented.
    #[serde(default)]
    pub action_schemas: BTreeMap<String, Schema>,
    #[serde(default)]
    pub resource_identity_schemas: BTreeMap<String, IdentitySchema>,
    /// Not rendered yet; kept so that a provider function cannot ship
    /// without a page unnoticed.
    #[serde(default)]
    pub functions: BTreeMap<String, Json>,
}

#[derive(Debug, Deserialize)]
pub struct Schema {
    pub block: Block,
}

#[derive(Debug, Default, Deserialize)]
pub struct Block {
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    #[serde(default)]
    pub block_types: BTreeMap<String, NestedBlock>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Attribute {
    /// A cty type: `"string"`, `["map", "string"]`, `["object", {...}]`…
    /// Absent when the attribute has a `nested_type` instead.
    #[serde(rename = "type")]
    pub ty: Option<Json>,
    pub nested_type: Option<NestedType>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub computed: bool,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub write_only: bool,
    #[serde(default)]
    pub deprecated: bool,
}

/// Protocol 6 nested attributes (`attr = { … }` rather than a block).
#[derive(Debug, Deserialize)]
pub struct NestedType {
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    pub nesting_mode: String,
}

#[derive(Debug, Deserialize)]
pub struct NestedBlock {
    pub nesting_mode: String,
    pub block: Block,
    #[serde(default)]
    pub min_items: u64,
    #[serde(default)]
    pub max_items: u64,
}

#[derive(Debug, Deserialize)]
pub struct IdentitySchema {
    #[serde(default)]
    pub attributes: BTreeMap<String, IdentityAttribute>,
}

#[derive(Debug, Deserialize)]
pub struct IdentityAttribute {
    #[serde(rename = "type")]
    pub ty: Json,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required_for_import: bool,
    #[serde(default)]
    pub optional_for_import: bool,
}
