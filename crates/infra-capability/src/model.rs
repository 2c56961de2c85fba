//! The capability model: what one markdown file declares, as plain data.
//!
//! Parsing (`parse.rs`) builds these; the library (`library.rs`) collects them;
//! `infra ask` reads them through [`Capability::doc`] (interpreters) or directly
//! (router, expander). Nothing here does I/O or rendering.

use std::fmt;

use serde_json::{Map, Value};

pub use super::param::ParamType;

/// One capability: front matter, prose and examples of one markdown file.
#[derive(Debug, Clone, PartialEq)]
pub struct Capability {
    pub name: String,
    pub summary: String,
    /// Lowercase phrases the router matches against requests (front matter first,
    /// then the `## Aliases/Triggers` list), without duplicates.
    pub triggers: Vec<String>,
    pub action: CapAction,
    /// Template file name under `templates/` (`None` only for `action = "remove"`).
    pub template: Option<String>,
    /// 1-based line of the `template = …` key, so a missing template is reported there.
    pub template_line: usize,
    /// Parameters in front-matter order.
    pub params: Vec<Param>,
    /// Markdown after the front matter (prose, triggers and examples), for people and models.
    pub body: String,
    pub examples: Vec<Example>,
    pub source: Source,
    /// Where the file came from, for messages (`capabilities/x.md` or `builtin:capabilities/x.md`).
    pub path: String,
}

/// What applying the capability does to the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapAction {
    /// Render the template and add the resources it declares.
    #[default]
    Create,
    /// Render the template and merge its attributes into existing resources.
    Update,
    /// No template: remove the resource or group named by the `target` param.
    Remove,
}

impl CapAction {
    pub const ALL: &'static [&'static str] = &["create", "update", "remove"];

    pub fn parse(s: &str) -> Option<CapAction> {
        match s {
            "create" => Some(CapAction::Create),
            "update" => Some(CapAction::Update),
            "remove" => Some(CapAction::Remove),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            CapAction::Create => "create",
            CapAction::Update => "update",
            CapAction::Remove => "remove",
        }
    }
}

/// Built into the binary, or from the project's own `capabilities/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Builtin,
    Project,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Builtin => "builtin",
            Source::Project => "project",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    pub required: bool,
    /// Already normalised by `ty.check`.
    pub default: Option<Value>,
    pub description: String,
    /// For `address` params: the pool to allocate from (`None`: the first pool).
    pub pool: Option<String>,
}

/// One `## Examples` line: a request and what the offline interpreter must make of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub request: String,
    /// Expected params, normalised by their types (empty when declined).
    pub expect: Map<String, Value>,
    /// `→ (declined)`: the offline interpreter must decline the request.
    pub declined: bool,
    /// 1-based line in the capability file.
    pub line: usize,
}

/// A problem in a capability file or template, at a 1-based line (0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapError {
    pub path: String,
    pub line: usize,
    pub message: String,
    pub help: Option<String>,
}

impl CapError {
    pub fn new(path: &str, line: usize, message: impl Into<String>) -> CapError {
        CapError {
            path: path.to_string(),
            line,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> CapError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for CapError {
    /// `path:line: message` (then `  help: …`), the shape editors and CI logs link.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.path, self.line, self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl Capability {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The view interpreters get: no template, no file paths.
    pub fn doc(&self) -> CapabilityDoc {
        CapabilityDoc {
            name: self.name.clone(),
            summary: self.summary.clone(),
            params: self
                .params
                .iter()
                .map(|p| ParamDoc {
                    name: p.name.clone(),
                    ty: p.ty.as_str().to_string(),
                    required: p.required,
                    default: p.default.clone(),
                    description: p.description.clone(),
                })
                .collect(),
            // Declined examples teach what not to do; models imitate only the good ones.
            examples: self
                .examples
                .iter()
                .filter(|e| !e.declined)
                .map(|e| e.request.clone())
                .collect(),
            body: self.body.clone(),
        }
    }

    /// Params with defaults applied, `given` (already checked) over them; optional
    /// params without a default are `null`, so templates can test them with `if`.
    pub fn params_with_defaults(&self, given: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for p in &self.params {
            let v = given
                .get(&p.name)
                .cloned()
                .or_else(|| p.default.clone())
                .unwrap_or(Value::Null);
            out.insert(p.name.clone(), v);
        }
        out
    }

    /// Check and normalise every given param; errors name the param and what it expects.
    pub fn check_params(
        &self,
        given: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Vec<String>> {
        let mut out = Map::new();
        let mut errors = Vec::new();
        for (k, v) in given {
            match self.param(k) {
                None => {
                    let names = self.params.iter().map(|p| p.name.as_str());
                    let mut msg = format!("`{}` has no param `{k}`", self.name);
                    if let Some(c) = infra_core::spec::load::closest(k, names) {
                        msg.push_str(&format!(" (did you mean `{c}`?)"));
                    }
                    errors.push(msg);
                }
                Some(p) => match p.ty.check(v) {
                    Ok(v) => {
                        out.insert(k.clone(), v);
                    }
                    Err(e) => errors.push(format!("param `{k}`: {e}")),
                },
            }
        }
        for p in &self.params {
            if p.required && !given.contains_key(&p.name) {
                errors.push(format!(
                    "param `{}` is required ({})",
                    p.name, p.description
                ));
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

impl Capability {
    /// Check example expectations: known params with valid values (required ones may be
    /// missing, since an example can expect the interpreter to ask).
    pub(crate) fn check_params_partial(
        &self,
        given: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Vec<String>> {
        let mut full = given.clone();
        for p in &self.params {
            if p.required && !full.contains_key(&p.name) {
                full.insert(p.name.clone(), p.ty.sample());
            }
        }
        self.check_params(&full).map(|mut m| {
            m.retain(|k, _| given.contains_key(k));
            m
        })
    }
}

/// A capability as an interpreter sees it: plain data, no templates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CapabilityDoc {
    pub name: String,
    pub summary: String,
    pub params: Vec<ParamDoc>,
    /// Example requests (for models to imitate).
    pub examples: Vec<String>,
    /// The capability's prose (markdown), for models.
    pub body: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ParamDoc {
    pub name: String,
    /// Parameter type as the capability declares it (name, port, cores, memory, …).
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    pub description: String,
}
