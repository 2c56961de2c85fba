//! Every tool call, appended to `.infra/mcp.log` as one JSON line: when, which
//! tool, the arguments (secrets cut, a request redacted as `ask` redacts it, long
//! strings shortened), and how it ended. Never committed (`.gitignore`).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::redact::Redactor;

pub const LOG_FILE: &str = ".infra/mcp.log";

/// Strings in the log are cut to this many characters.
const MAX_STRING: usize = 500;

pub struct CallLog {
    path: PathBuf,
}

impl CallLog {
    pub fn new(root: &Path) -> CallLog {
        CallLog {
            path: root.join(LOG_FILE),
        }
    }

    pub fn record(&self, tool: &str, args: &Value, outcome: &str, redactor: &Redactor) {
        let line = json!({
            "time": crate::time::format_utc(crate::util::unix_now()),
            "tool": tool,
            "arguments": shorten(&redactor.value(&redact_requests(args))),
            "outcome": redactor.text(outcome),
        });
        // A log that cannot be written must not stop the tool; it says so once.
        if let Err(e) = self.append(&line.to_string()) {
            eprintln!("infra mcp: cannot write {}: {e}", self.path.display());
        }
    }

    fn append(&self, line: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            // Never through a link a proposal might have planted.
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path)?;
        f.write_all(format!("{line}\n").as_bytes())
    }
}

/// Every string argument passes through ask's redaction (pasted keys,
/// passwords), as a request does.
fn redact_requests(args: &Value) -> Value {
    super::redact::map_strings(args, &|text| crate::ask::redact::redact(text).text)
}

fn shorten(v: &Value) -> Value {
    match v {
        Value::String(s) if s.chars().count() > MAX_STRING => {
            json!(format!(
                "{}… ({} characters)",
                s.chars().take(MAX_STRING).collect::<String>(),
                s.chars().count()
            ))
        }
        Value::Array(a) => Value::Array(a.iter().take(50).map(shorten).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shorten(v))).collect()),
        other => other.clone(),
    }
}
