//! Values in and out of the wire format, and the small conversions every
//! RPC family shares.

use crate::diag::{Diagnostic, Diagnostics};
use crate::proto::tfplugin6 as pb;
use crate::schema::{Block, Schema};
use crate::value::{Type, Value};
use crate::{json, msgpack};
use std::time::SystemTime;

/// Decodes a value Terraform sent; an absent value is null.
pub(super) fn decode(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostics> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty).map_err(|e| e.to_string())
    } else if !value.json.is_empty() {
        json::decode(&value.json, ty).map_err(|e| e.to_string())
    } else {
        Ok(Value::Null)
    };
    decoded.map_err(|err| {
        Diagnostic::error(
            "Unreadable value from Terraform",
            format!(
                "The {what} could not be decoded: {err}. This is a bug in the provider or in \
                 Terraform."
            ),
        )
        .into()
    })
}

pub(super) fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    match msgpack::encode(value, ty) {
        Ok(bytes) => Ok(pb::DynamicValue {
            msgpack: bytes,
            json: Vec::new(),
        }),
        Err(err) => Err(Diagnostic::error(
            "Provider produced an unencodable value",
            format!("{err}. This is a bug in the provider."),
        )
        .into()),
    }
}

/// An identity as Terraform carries it.
pub(super) fn encode_identity(
    value: &Value,
    ty: &Type,
) -> Result<pb::ResourceIdentityData, Diagnostics> {
    Ok(pb::ResourceIdentityData {
        identity_data: Some(encode(value, ty)?),
    })
}

/// Splits a result into the value and the diagnostics of a response.
pub(super) fn diags<T>(result: Result<T, Diagnostics>) -> (Option<T>, Vec<pb::Diagnostic>) {
    match result {
        Ok(value) => (Some(value), Vec::new()),
        Err(diags) => (None, diags.to_proto()),
    }
}

/// Decodes a configuration and runs its checks: the validators declared on
/// the schema's attributes, then the object's own offline checks, behind
/// the panic guard. What every Validate*Config RPC does.
pub(super) fn validated(
    config: Option<&pb::DynamicValue>,
    schema: &Schema,
    ty: &Type,
    what: &str,
    validate: impl FnOnce(&Value) -> Diagnostics,
) -> Result<(), Diagnostics> {
    let config = decode(config, ty, what)?;
    as_result(checked("validation", &schema.block, &config, validate))
}

/// The attribute validators' diagnostics, then the object's own checks'.
pub(super) fn checked(
    doing: &str,
    block: &Block,
    config: &Value,
    validate: impl FnOnce(&Value) -> Diagnostics,
) -> Diagnostics {
    super::guard::guarded_sync(
        doing,
        || {
            let mut diags = block.validate(config);
            diags.extend(validate(config));
            diags
        },
        |d| d,
    )
}

/// Turns validation diagnostics into a result: `Err` when there are any.
pub(super) fn as_result(diagnostics: Diagnostics) -> Result<(), Diagnostics> {
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(diagnostics)
    }
}

pub(super) fn unsupported(what: &str) -> Diagnostics {
    Diagnostic::error(
        format!("{what} is not supported"),
        format!("{what} is not supported by this provider."),
    )
    .into()
}

pub(super) fn timestamp(at: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(at)
}
