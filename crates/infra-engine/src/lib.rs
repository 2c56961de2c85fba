//! The engine: one project's refresh → diff → plan → apply → journal → state.
//! It knows providers only through the kit's trait and a `Registry` the caller
//! passes in; it never names a concrete provider, the CLI or a renderer.

pub mod adopt;
pub mod apply;
pub mod cycle;
pub mod project;
pub mod retry;
