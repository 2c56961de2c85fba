//! The data model every other crate speaks: the spec as loaded and validated
//! (`spec`), the recorded state (`state`), the error type with hints the CLI
//! prints (`error`) and small shared helpers (`util`, `time`). No I/O beyond reading and
//! writing the project's own files.

pub mod beneath;
pub mod dns;
pub mod error;
pub mod secrets;
pub mod spec;
pub mod state;
pub mod time;
pub mod util;
