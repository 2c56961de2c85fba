//! `infra ask`: a request in words becomes a validated, committed spec change.
//!
//! router → interpreter (offline rules or a model) → Intent (schema-checked) →
//! expander (capability templates, IP allocation, toml_edit) → validation, plan
//! against the recorded state, safety checks → commit. Nothing is written unless
//! every step succeeds.

pub mod backend;
pub mod examples;
pub mod expand;
pub mod extract;
pub mod intent;
pub mod interpreter;
pub mod jsonschema;
pub mod offline;
pub mod pool;
pub mod redact;
pub mod router;
pub mod run;
pub mod view;
pub mod words;

pub use intent::{Intent, Operation};
pub use interpreter::{CapabilityDoc, Interpreter, ParamDoc, Request};
