//! What every resource, data source, list resource and action of this
//! provider shares: the configured API (client and the shared app list),
//! time limits, durations, and API failures as diagnostics.

pub mod api;
pub mod api_errors;
pub mod deadline;
pub mod deletion_policy;
pub mod duration;
pub mod quote;
pub mod time;
pub mod timeouts;

pub use api::{Api, AppDirectory, Change, Org, api};
pub use api_errors::{Attempt, NotFound, api_error};
pub use deadline::Deadline;
pub use duration::parse_duration;
pub use quote::quoted;
pub use timeouts::{Operation, Timeouts};
