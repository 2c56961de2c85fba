//! `infra`: Infrastructure as Conversation. This crate is the command line
//! (`cli`) and the plan renderers (`render`); everything else lives in the
//! workspace's crates, re-exported here under their old module names.
//!
//! Layers (a crate imports only those to its left; the compiler enforces it):
//! `infra-core` → `infra-kit` → `infra-plan` → `infra-engine` → `infra-providers` → `infra`,
//! with `infra-git`, `infra-capability` and `infra-ask` beside the engine.

pub mod cli;
pub mod render;
pub mod report;

pub use infra_ask as ask;
pub use infra_capability as capability;
pub use infra_core::{dns, err, error, spec, state, time, util};
pub use infra_engine::{apply, project};
pub use infra_git as git;
pub use infra_plan as plan;

/// The provider kit and every provider, as one module.
pub mod providers {
    pub use infra_kit::*;
    pub use infra_providers::*;
}
