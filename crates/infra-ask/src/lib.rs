//! `infra ask`: a request in words becomes a validated, committed spec change.
//!
//! router → interpreter (the offline grammar or a model) → Intent: typed
//! operations, schema-checked → safety rules (against the request's own words) →
//! expander (capability templates, IP allocation, edits with toml_edit) →
//! validation, plan against the recorded state, no unasked destroys → commit.
//! Nothing is written unless every step succeeds.

pub mod backend;
pub mod examples;
pub mod expand;
pub mod grammar;
pub mod intent;
pub mod interpreter;
pub mod jsonschema;
pub mod offline;
pub mod pool;
pub mod redact;
pub mod router;
pub mod run;
pub mod safety;
pub mod scope;
pub mod view;
pub mod words;

pub use intent::{Intent, Operation};
pub use interpreter::{CapabilityDoc, Interpreter, ParamDoc, Request};
