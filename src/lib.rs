//! `infra`: Infrastructure as Conversation.
//!
//! Layers (imports flow downward only):
//! `cli` → `apply` / `plan` / `render` → `spec` / `state` / `providers` / `git`.
//! `plan` is pure (no I/O); `render` only formats a `Plan`; `git` is the only
//! module that names git2.

pub mod apply;
pub mod ask;
pub mod capability;
pub mod cli;
pub mod error;
pub mod git;
pub mod plan;
pub mod project;
pub mod providers;
pub mod render;
pub mod spec;
pub mod state;
pub mod util;
