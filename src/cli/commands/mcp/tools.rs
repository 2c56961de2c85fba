//! The tools `infra mcp` offers, as plain functions from JSON arguments to a
//! JSON result: nothing here knows the protocol. Each tool's input schema is
//! checked with a real validator before it runs, every tool but `propose` only
//! reads, and `propose` commits on a new `infra/proposal-…` branch in a
//! worktree of its own, so the person's branch and files never move.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

use super::redact::Redactor;
use crate::capability::Library;

/// The longest request `propose` takes (as `infra ask`).
const MAX_REQUEST: u64 = 64 * 1024;
/// What a revision may look like in `diff`: names, ids, `~`/`^` suffixes.
const REV_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._/@{}~^-]{0,199}$";
const ADDRESS: &str = r"^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9_-]{0,62}$";

pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    pub input: Value,
    pub output: Value,
}

/// Why a call did not produce a result.
#[derive(Debug)]
pub enum CallError {
    /// Arguments that break the tool's input schema (the caller can fix them).
    Invalid(String),
    /// The tool ran and failed, in infra's words.
    Failed(String),
}

pub fn defs() -> Vec<ToolDef> {
    let obj = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required, "additionalProperties": false});
    let any_object = json!({"type": "object"});
    vec![
        ToolDef {
            name: "capabilities",
            description: "List the capabilities infra can add (built-in and the project's own), or show one with its parameters, examples and documentation.",
            input: obj(json!({"name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$", "description": "one capability to show in full"}}), &[]),
            output: obj(json!({"capabilities": {"type": "array"}, "capability": {"type": "object"}}), &[]),
        },
        ToolDef {
            name: "validate",
            description: "Check the whole spec offline; every problem with file, line and column.",
            input: obj(json!({}), &[]),
            output: json!({"type": "object", "properties": {"valid": {"type": "boolean"}, "problems": {"type": "array"}}, "required": ["valid"]}),
        },
        ToolDef {
            name: "plan",
            description: "What an apply would change: the structured plan, its Markdown form and its digest (the unit a person approves). Reads live infrastructure unless refresh is false. Changes nothing.",
            input: obj(json!({
                "refresh": {"type": "boolean", "description": "read live state first (default true)"},
                "targets": {"type": "array", "items": {"type": "string", "pattern": ADDRESS}, "maxItems": 100, "description": "plan only these resources (kind.name)"}
            }), &[]),
            output: json!({"type": "object", "properties": {"digest": {"type": "string"}, "summary": any_object, "changes": {"type": "array"}, "markdown": {"type": "string"}}, "required": ["digest", "markdown"]}),
        },
        ToolDef {
            name: "propose",
            description: "Turn a request in words into a spec change committed on a new branch infra/proposal-… (never the current branch; nothing live changes). Returns the branch, the diff, the plan summary and the digest for a person to review and apply.",
            input: one_of_request_or_operations(obj(json!({
                "request": {"type": "string", "minLength": 1, "maxLength": MAX_REQUEST, "description": "what to change, in words, e.g. \"add a wiki container with 2 GB of memory\""},
                "operations": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "object"},
                    "description": "the change as typed operations instead of infra's interpreter: {\"op\": \"use_capability\", \"capability\": NAME, \"params\": {...}}, {\"op\": \"set\", \"address\": \"kind.name\", \"attribute\": NAME, \"value\": V}, {\"op\": \"remove\", \"target\": \"kind.name\"}; checked as an interpreter's answer is (the request must still say what they do)"}
            }), &[])),
            output: json!({"type": "object", "properties": {"branch": {"type": "string"}, "commit": {"type": "string"}, "diff": {"type": "string"}, "summary": {"type": "string"}, "files": {"type": "array"}, "changes": {"type": "array"}, "plan": any_object, "digest": {"type": ["string", "null"]}}, "required": ["branch", "commit", "diff"]}),
        },
        ToolDef {
            name: "show",
            description: "The recorded state of every resource, or of one (sensitive values hidden).",
            input: obj(json!({"address": {"type": "string", "pattern": ADDRESS, "description": "one resource, kind.name"}}), &[]),
            output: any_object.clone(),
        },
        ToolDef {
            name: "history",
            description: "The requests and applies recorded in git, newest first.",
            input: obj(json!({"limit": {"type": "integer", "minimum": 1, "maximum": 200}}), &[]),
            output: json!({"type": "object", "properties": {"entries": {"type": "array"}}, "required": ["entries"]}),
        },
        ToolDef {
            name: "apply",
            description: "Apply exactly the plan with this digest, if a person approved it at a terminal (`infra approve DIGEST`) within the hour and a fresh plan still has that digest. Otherwise nothing happens.",
            input: obj(json!({"digest": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "the digest the plan tool returned and the person approved"}}), &["digest"]),
            output: any_object.clone(),
        },
        ToolDef {
            name: "diff",
            description: "The spec's difference between two revisions (branches, tags, commits), e.g. the current branch and a proposal.",
            input: obj(json!({
                "base": {"type": "string", "pattern": REV_PATTERN},
                "head": {"type": "string", "pattern": REV_PATTERN}
            }), &["base", "head"]),
            output: json!({"type": "object", "properties": {"diff": {"type": "string"}, "files": {"type": "array", "items": {"type": "string"}}}, "required": ["diff", "files"]}),
        },
    ]
}

/// `propose` needs words, typed operations, or both.
fn one_of_request_or_operations(mut schema: Value) -> Value {
    schema["anyOf"] = json!([{"required": ["request"]}, {"required": ["operations"]}]);
    schema
}

/// Check `args` against the tool's input schema; the problems, in the schema's words.
pub fn check_args(def: &ToolDef, args: &Value) -> Result<(), CallError> {
    let validator = jsonschema::validator_for(&def.input).map_err(|e| {
        CallError::Failed(format!(
            "the {} tool's schema does not compile: {e}",
            def.name
        ))
    })?;
    let problems: Vec<String> = validator
        .iter_errors(args)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            // The message may quote the value: a huge one is cut.
            let msg: String = e.to_string().chars().take(300).collect();
            if at.is_empty() {
                msg
            } else {
                format!("{msg} at {at}")
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CallError::Invalid(problems.join("; ")))
    }
}

pub struct Context<'a> {
    pub root: &'a Path,
    pub redactor: &'a Redactor,
}

impl Context<'_> {
    pub fn call(&self, name: &str, args: &Map<String, Value>) -> Result<Value, CallError> {
        match name {
            "capabilities" => self.capabilities(args.get("name").and_then(Value::as_str)),
            "validate" => self.infra_json(&["validate", "--format", "json"], &[0, 1]),
            "plan" => self.plan(args),
            "propose" => {
                let ops = args.get("operations");
                let request = match (args.get("request").and_then(Value::as_str), ops) {
                    (Some(r), _) => r.to_string(),
                    // Operations alone: their own words are the request the
                    // safety checks read (a removal must be named, and is).
                    (None, Some(ops)) => format!("apply these operations: {ops}"),
                    (None, None) => {
                        return Err(CallError::Invalid(
                            "give a request in words, typed operations, or both".into(),
                        ))
                    }
                };
                super::propose::propose(self, &request, ops)
            }
            "show" => {
                let mut a = vec!["show", "--json"];
                if let Some(addr) = args.get("address").and_then(Value::as_str) {
                    a.push(addr);
                }
                self.infra_json(&a, &[0])
            }
            "history" => {
                let limit = args
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(20)
                    .to_string();
                let entries = self.infra_json(&["history", "--json", "-n", &limit], &[0])?;
                Ok(json!({ "entries": entries }))
            }
            "diff" => self.diff(
                args["base"].as_str().unwrap_or_default(),
                args["head"].as_str().unwrap_or_default(),
            ),
            "apply" => self.apply(args["digest"].as_str().unwrap_or_default()),
            other => Err(CallError::Invalid(format!("no tool named `{other}`"))),
        }
    }

    fn capabilities(&self, name: Option<&str>) -> Result<Value, CallError> {
        let lib = Library::load(Some(self.root));
        let doc = |c: &crate::capability::Capability| {
            let d = c.doc();
            json!({
                "name": d.name,
                "source": c.source.as_str(),
                "summary": d.summary,
                "params": d.params.iter().map(|p| json!({
                    "name": p.name, "type": p.ty, "required": p.required,
                    "default": p.default, "description": p.description,
                })).collect::<Vec<_>>(),
            })
        };
        match name {
            None => Ok(json!({ "capabilities": lib.caps.iter().map(doc).collect::<Vec<_>>() })),
            Some(n) => {
                let c = lib.get(n).ok_or_else(|| {
                    CallError::Failed(format!("no capability named `{n}`; the capabilities tool without a name lists them"))
                })?;
                let mut one = doc(c);
                let d = c.doc();
                one["examples"] = json!(d.examples);
                one["body"] = json!(d.body);
                Ok(json!({ "capability": one }))
            }
        }
    }

    fn plan(&self, args: &Map<String, Value>) -> Result<Value, CallError> {
        let dir = tempfile::tempdir()
            .map_err(|e| CallError::Failed(format!("cannot make a temp dir: {e}")))?;
        let json_path = dir.path().join("plan.json");
        let json_arg = json_path.display().to_string();
        let mut a = vec![
            "plan",
            "--format",
            "markdown",
            "--json-out",
            json_arg.as_str(),
        ];
        if args.get("refresh").and_then(Value::as_bool) == Some(false) {
            a.push("--refresh=false");
        }
        let targets: Vec<String> = args
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(|s| format!("--target={s}")))
            .collect();
        a.extend(targets.iter().map(String::as_str));
        let markdown = self.infra_text(&a, &[0])?;
        let text =
            fs_err::read_to_string(&json_path).map_err(|e| CallError::Failed(e.to_string()))?;
        let plan: Value = serde_json::from_str(&self.redactor.text(&text))
            .map_err(|e| CallError::Failed(format!("the plan is not JSON: {e}")))?;
        Ok(json!({
            "digest": plan["digest"],
            "summary": plan["summary"],
            "changes": plan["changes"],
            "markdown": markdown,
        }))
    }

    /// Only what a person approved outside the protocol; `--expect-digest`
    /// then refuses unless a fresh plan is that very plan.
    fn apply(&self, digest: &str) -> Result<Value, CallError> {
        let approved = super::super::approve::approved(self.root, digest)
            .map_err(|e| CallError::Failed(e.message))?;
        if !approved {
            return Err(CallError::Failed(format!(
                "no person approved the plan {digest}: ask them to review it and run `infra approve {digest}` in a terminal"
            )));
        }
        self.infra_json(
            &["apply", "--expect-digest", digest, "--format", "json"],
            &[0],
        )
    }

    fn diff(&self, base: &str, head: &str) -> Result<Value, CallError> {
        let repo = crate::git::Repo::open(self.root).map_err(|e| CallError::Failed(e.message))?;
        for rev in [base, head] {
            repo.resolve(rev)
                .map_err(|e| CallError::Failed(e.message))?;
        }
        let spec_paths: Vec<String> = crate::spec::load::SPEC_PATHS
            .iter()
            .map(|p| p.to_string())
            .collect();
        let mut a: Vec<&str> = vec![
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            base,
            head,
            "--",
        ];
        a.extend(spec_paths.iter().map(String::as_str));
        let out = git(self.root, &a)?;
        let mut b: Vec<&str> = vec!["diff", "--name-only", "--no-ext-diff", base, head, "--"];
        b.extend(spec_paths.iter().map(String::as_str));
        let names = git(self.root, &b)?;
        Ok(json!({
            "diff": self.redactor.text(&out),
            "files": names.lines().map(str::to_string).collect::<Vec<_>>(),
        }))
    }

    /// Run this infra binary on the project; its JSON output.
    pub fn infra_json(&self, args: &[&str], ok: &[i32]) -> Result<Value, CallError> {
        let text = self.infra_text(args, ok)?;
        serde_json::from_str(&text)
            .map_err(|e| CallError::Failed(format!("infra {} printed no JSON: {e}", args[0])))
    }

    /// Run this infra binary on the project; standard output, secrets cut. A
    /// failure is infra's own message (standard error).
    pub fn infra_text(&self, args: &[&str], ok: &[i32]) -> Result<String, CallError> {
        infra_in(self.root, args, None, ok, self.redactor)
    }
}

/// Run this infra binary in `dir`, with `input` (if any) on its standard
/// input; standard output, secrets cut. A failure is infra's own message
/// (standard error).
pub fn infra_in(
    dir: &Path,
    args: &[&str],
    input: Option<&str>,
    ok: &[i32],
    redactor: &Redactor,
) -> Result<String, CallError> {
    use std::io::Write;
    let exe = std::env::current_exe()
        .map_err(|e| CallError::Failed(format!("cannot find infra itself: {e}")))?;
    let mut child = Command::new(exe)
        .arg("-C")
        .arg(dir)
        .args(["--color", "never"])
        .args(args)
        .env("CI", "true")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| CallError::Failed(format!("cannot run infra {}: {e}", args[0])))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| CallError::Failed(format!("infra {}: {e}", args[0])))?;
    let code = out.status.code().unwrap_or(-1);
    let stdout = redactor.text(&String::from_utf8_lossy(&out.stdout));
    if ok.contains(&code) {
        Ok(stdout)
    } else {
        let stderr = redactor.text(&String::from_utf8_lossy(&out.stderr));
        Err(CallError::Failed(stderr.trim().to_string()))
    }
}

/// git in the project, read-only commands only.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, CallError> {
    let out = crate::git::run_git(dir, args).map_err(|e| CallError::Failed(e.message))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(CallError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

/// The spec files a client may read as resources, project-relative.
pub fn spec_files(root: &Path) -> Vec<PathBuf> {
    crate::spec::load::spec_files(root)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p))
        .filter(|p| p.is_relative())
        .collect()
}
