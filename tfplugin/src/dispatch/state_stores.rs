//! State stores (Terraform 1.15) let a provider keep Terraform's state.
//! This crate serves none; every state-store RPC gets this answer.

use tonic::Status;

pub(super) fn none() -> Status {
    Status::unimplemented(
        "this provider has no state stores: it does not store Terraform state. Configure a \
         backend or another provider's state store instead.",
    )
}
