//! Capabilities: markdown files with TOML front matter, prose and examples that are
//! also tests (DESIGN.md §7). This module loads them (built-in library compiled into
//! the binary, overridden by the project's `capabilities/` and `templates/`), checks
//! parameter values, and provides the template environment the expander renders with.
//!
//! It depends on `spec` (schemas and value checks) only; interpreters see a
//! capability as a plain `CapabilityDoc`. It never reads the spec files or calls an
//! interpreter itself.

mod body;
pub mod check;
pub mod library;
pub mod model;
mod param;
pub mod parse;
pub mod render;
pub mod scaffold;

#[cfg(test)]
mod tests;

pub use check::{check, check_rendered, sample_context, CheckReport, ExampleRunner};
pub use library::Library;
pub use model::{
    CapAction, CapError, Capability, CapabilityDoc, Example, Param, ParamDoc, ParamType, Source,
};
pub use param::RECORD_TYPES;
pub use parse::parse;
pub use render::{environment, is_private, toml_filter};
pub use scaffold::scaffold;
