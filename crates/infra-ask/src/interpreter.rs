//! What every interpreter (offline rules, Claude, OpenAI-compatible) receives and
//! returns. Interpreters only ever return an `Intent`; they never run anything.

use async_trait::async_trait;

use super::intent::Intent;
pub use infra_capability::{CapabilityDoc, ParamDoc};
use infra_core::error::Error;

/// One request to interpret.
#[derive(Debug, Clone)]
pub struct Request {
    /// The user's words with secrets already redacted.
    pub text: String,
    /// The router's top capabilities, best first.
    pub capabilities: Vec<CapabilityDoc>,
    /// A compact view of the current spec (addresses, groups, key attributes; no secrets).
    pub spec_view: String,
    /// The spec schema (`infra schema`) in one line per kind the spec holds:
    /// attributes, types, allowed values and ranges.
    pub kinds_view: String,
}

#[async_trait]
pub trait Interpreter: Send + Sync {
    /// Short name recorded in the commit trailer `Infra-Backend:` (e.g. "offline", "anthropic:claude-…").
    fn name(&self) -> String;

    async fn interpret(&self, req: &Request) -> Result<Intent, Error>;
}
