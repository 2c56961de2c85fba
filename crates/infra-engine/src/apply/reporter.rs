//! How the executor tells the outside world what it is doing. The CLI implements
//! this with indicatif (or plain lines); tests implement it to record events.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Delete,
    /// Write infra's ownership marker into an adopted object.
    Mark,
}

impl Op {
    pub fn verb(self) -> &'static str {
        match self {
            Op::Create => "Creating",
            Op::Update => "Modifying",
            Op::Delete => "Destroying",
            Op::Mark => "Marking",
        }
    }

    pub fn done(self) -> &'static str {
        match self {
            Op::Create => "Creation complete",
            Op::Update => "Modifications complete",
            Op::Delete => "Destruction complete",
            Op::Mark => "Ownership marker written",
        }
    }
}

pub trait Reporter: Send + Sync {
    fn start(&self, address: &str, op: Op);
    fn retry(&self, address: &str, op: Op, attempt: u32, error: &str, wait: Duration);
    fn finish(&self, address: &str, op: Op, error: Option<&str>, elapsed: Duration);
}

/// A reporter that says nothing.
pub struct Silent;

impl Reporter for Silent {
    fn start(&self, _: &str, _: Op) {}
    fn retry(&self, _: &str, _: Op, _: u32, _: &str, _: Duration) {}
    fn finish(&self, _: &str, _: Op, _: Option<&str>, _: Duration) {}
}
