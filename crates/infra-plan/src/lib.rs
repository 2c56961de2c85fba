//! The plan engine: `diff(input) -> Plan`, pure (no I/O, no async).
//!
//! Input is the desired resources (spec, references unresolved, in dependency
//! order), the recorded state and the live objects a refresh found. Output is the
//! `Plan` that renderers format and the executor runs.

pub mod beside;
pub mod diff;
pub mod model;
pub mod policy;
pub mod redact;
#[cfg(test)]
mod tests;

pub use diff::{diff, resolve_attrs, DesiredInput, Input, LiveObject, PlanError};
pub use model::{
    Action, Drift, Plan, Reason, ResourceChange, SharedAttrs, Summary, FORMAT_VERSION,
};
