//! Apply: walk the plan's dependency graph, run provider calls in parallel,
//! journal every finished operation, and hold the project lock meanwhile.
//! Progress leaves the engine only through the `Reporter` trait.

pub mod executor;
pub mod lock;
pub mod reporter;

pub use executor::{execute, ExecOptions, Outcome, Work};
pub use reporter::{Op, Reporter};
