//! `infra mcp`: infra for AI assistants over the Model Context Protocol (stdio,
//! the official `rmcp` SDK). Proposal-only by default: the tools read
//! (capabilities, validate, plan, show, history, diff) or propose a change on a
//! new branch. With `[mcp] allow_apply = true` an `apply` tool exists, and it
//! applies only a digest a person approved at a terminal (`infra approve`).
//! `[mcp] tools` narrows what may be called, and is enforced on every call, not
//! only in the list. No secret value crosses the protocol, and every call is
//! logged to `.infra/mcp.log`.

mod log;
mod propose;
mod redact;
mod server;
mod tools;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub fn run(cwd: &Path) -> Result<i32> {
    let root = super::root(cwd)?;
    let infra = Infra::open(&root)?;
    let rt = super::runtime()?;
    rt.block_on(server::serve(infra))?;
    Ok(0)
}

/// What the server knows of the project: where it is, what may be called,
/// which values are secret, where calls are logged.
pub struct Infra {
    root: PathBuf,
    allowed: Vec<&'static str>,
    log: log::CallLog,
    /// The Markdown of the last plan a client asked for: the `infra://plan/last` resource.
    last_plan: std::sync::Mutex<Option<String>>,
}

/// How a call ended, for the protocol layer.
pub enum Outcome {
    /// The tool ran: its structured result.
    Done(Value),
    /// The tool ran and failed, or its arguments were wrong: the caller reads why.
    ToolError(String),
    /// Not callable here (unknown, or outside `[mcp] tools`): a protocol error.
    Refused(String),
}

impl Infra {
    pub fn open(root: &Path) -> Result<Infra> {
        let (spec, diags) = crate::spec::load::load(root)?;
        // The settings must read; a spec with other problems is still served
        // (validate is one of the tools).
        // A [mcp] table that does not read never widens what is allowed.
        if spec.mcp.invalid {
            let said: Vec<&str> = diags.items.iter().map(|d| d.message.as_str()).collect();
            return Err(Error::new(
                "infra.toml's [mcp] table has errors; infra mcp does not start",
            )
            .detail(said.join("\n"))
            .hint("`infra validate` shows where"));
        }
        // `apply` exists only when infra.toml says so, and a listed tool only if
        // the allowlist (when there is one) names it.
        let allowed = crate::spec::MCP_TOOLS
            .iter()
            .copied()
            .filter(|t| *t != "apply" || spec.mcp.allow_apply)
            .filter(|t| {
                spec.mcp
                    .tools
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|x| x == t))
            })
            .collect();
        Ok(Infra {
            root: root.to_path_buf(),
            allowed,
            log: log::CallLog::new(root),
            last_plan: std::sync::Mutex::new(None),
        })
    }

    /// The tools a client sees: the allowed ones.
    pub fn tools(&self) -> Vec<tools::ToolDef> {
        tools::defs()
            .into_iter()
            .filter(|t| self.allowed.contains(&t.name))
            .collect()
    }

    /// Run one call. The allowlist is checked here, on every call, whatever
    /// the client listed.
    pub fn call(&self, name: &str, args: Option<Map<String, Value>>) -> Outcome {
        let args = args.unwrap_or_default();
        let args_value = Value::Object(args.clone());
        let redactor = redact::Redactor::for_spec(&self.root);
        let outcome = self.dispatch(name, &args, &args_value, &redactor);
        let said = match &outcome {
            Outcome::Done(_) => "ok".to_string(),
            Outcome::ToolError(e) => format!("error: {}", e.lines().next().unwrap_or_default()),
            Outcome::Refused(e) => format!("refused: {e}"),
        };
        let tool: String = name.chars().take(100).collect();
        self.log.record(&tool, &args_value, &said, &redactor);
        outcome
    }

    fn dispatch(
        &self,
        name: &str,
        args: &Map<String, Value>,
        args_value: &Value,
        redactor: &redact::Redactor,
    ) -> Outcome {
        let Some(def) = tools::defs().into_iter().find(|t| t.name == name) else {
            return Outcome::Refused(format!(
                "no tool named `{}`",
                name.chars().take(100).collect::<String>()
            ));
        };
        if def.name == "apply" && !self.allowed.contains(&"apply") {
            return Outcome::Refused(
                "the apply tool is off here: a person applies the plans (`infra apply --expect-digest DIGEST`); [mcp] allow_apply = true lets this server apply what a person approved with `infra approve`".into(),
            );
        }
        if !self.allowed.contains(&def.name) {
            return Outcome::Refused(format!(
                "the tool `{name}` is not allowed here ([mcp] tools in infra.toml allows: {})",
                self.allowed.join(", ")
            ));
        }
        if let Err(tools::CallError::Invalid(why)) = tools::check_args(&def, args_value) {
            return Outcome::ToolError(format!(
                "invalid arguments for {name}: {}",
                redactor.text(&why)
            ));
        }
        let cx = tools::Context {
            root: &self.root,
            redactor,
        };
        match cx.call(name, args) {
            Ok(v) => {
                if name == "plan" {
                    if let Some(md) = v["markdown"].as_str() {
                        *self.last_plan.lock().expect("plan lock") = Some(md.to_string());
                    }
                }
                Outcome::Done(redactor.value(&v))
            }
            Err(tools::CallError::Invalid(e) | tools::CallError::Failed(e)) => {
                Outcome::ToolError(redactor.text(&e))
            }
        }
    }

    /// Resources: the spec files, the last plan, the spec schema.
    pub fn resources(&self) -> Vec<(String, &'static str, String)> {
        let mut out: Vec<(String, &'static str, String)> = tools::spec_files(&self.root)
            .into_iter()
            .map(|p| {
                let rel = p.display().to_string();
                (
                    format!("infra://spec/{rel}"),
                    "text/x-toml",
                    format!("spec file {rel}"),
                )
            })
            .collect();
        out.push((
            "infra://schema".into(),
            "application/schema+json",
            "JSON Schema of spec files (infra schema)".into(),
        ));
        if self.last_plan.lock().expect("plan lock").is_some() {
            out.push((
                "infra://plan/last".into(),
                "text/markdown",
                "the last plan the plan tool made".into(),
            ));
        }
        out
    }

    /// A resource's text, or None when there is no such resource.
    pub fn read(&self, uri: &str) -> Option<(String, &'static str)> {
        if uri == "infra://schema" {
            let schema =
                crate::providers::json_schema::spec_schema(&crate::providers::registry().infos());
            return Some((
                serde_json::to_string_pretty(&schema).ok()?,
                "application/schema+json",
            ));
        }
        if uri == "infra://plan/last" {
            return self
                .last_plan
                .lock()
                .ok()?
                .clone()
                .map(|t| (t, "text/markdown"));
        }
        let rel = uri.strip_prefix("infra://spec/")?;
        // Only a file the listing names, read beneath the root and never through
        // a link (as the spec loader reads): no path of the client's making is opened.
        let known = tools::spec_files(&self.root)
            .into_iter()
            .any(|p| p.to_str() == Some(rel));
        if !known {
            return None;
        }
        let entry = infra_core::beneath::Beneath::open(&self.root)
            .ok()?
            .read(Path::new(rel), crate::spec::load::MAX_SPEC_FILE_BYTES)
            .ok()??;
        let text = String::from_utf8(entry.data).ok()?;
        Some((
            redact::Redactor::for_spec(&self.root).text(&text),
            "text/x-toml",
        ))
    }
}
