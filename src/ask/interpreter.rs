//! What every interpreter (offline rules, Claude, OpenAI-compatible) receives and
//! returns. Interpreters only ever return an `Intent`; they never run anything.

use async_trait::async_trait;

use super::intent::Intent;
use crate::error::Error;

/// A capability as an interpreter sees it: plain data, no templates.
#[derive(Debug, Clone)]
pub struct CapabilityDoc {
    pub name: String,
    pub summary: String,
    pub params: Vec<ParamDoc>,
    /// Example requests (for models to imitate).
    pub examples: Vec<String>,
    /// The capability's prose (markdown), for models.
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct ParamDoc {
    pub name: String,
    /// Parameter type as the capability declares it (name, port, cores, memory, …).
    pub ty: String,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    pub description: String,
}

/// One request to interpret.
#[derive(Debug, Clone)]
pub struct Request {
    /// The user's words with secrets already redacted.
    pub text: String,
    /// The router's top capabilities, best first.
    pub capabilities: Vec<CapabilityDoc>,
    /// A compact view of the current spec (addresses, groups, key attributes; no secrets).
    pub spec_view: String,
}

#[async_trait]
pub trait Interpreter: Send + Sync {
    /// Short name recorded in the commit trailer `Infra-Backend:` (e.g. "offline", "anthropic:claude-…").
    fn name(&self) -> String;

    async fn interpret(&self, req: &Request) -> Result<Intent, Error>;
}
