//! The whole `infra ask` flow, as a library call the CLI wraps. Every check runs
//! before anything is written; on any failure the repository is untouched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::expand::{Edit, Expander, Prompt};
use super::grammar::world::World;
use super::grammar::Grammar;
use super::intent::{Intent, Operation};
use super::interpreter::{Interpreter, Request};
use super::offline::Offline;
use super::redact::redact;
use super::router::Router;
use super::view;
use infra_capability::Library;
use infra_core::error::{Error, Result};
use infra_core::spec::load;
use infra_core::spec::load::SPEC_PATHS;
use infra_engine::project::{PlanOptions, Project};
use infra_kit::Registry;
use infra_plan::{Action, Plan, ResourceChange};

/// How many capabilities the router hands to a model.
const TOP: usize = 5;

/// The longest request ask takes, in bytes: a request is a few sentences, and
/// whatever is read must fit in a model's prompt and a commit trailer.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct AskOptions {
    pub backend: Option<String>,
    pub branch: Option<String>,
    pub dry_run: bool,
    pub color: bool,
    /// The providers the project may use (the CLI passes every one it knows).
    pub registry: Registry,
    /// An Intent the caller wrote itself (an assistant over MCP): it takes the
    /// interpreter's place and passes the same schema and safety checks.
    pub intent: Option<serde_json::Value>,
}

/// The caller's own Intent, as an interpreter.
struct Given<'a>(&'a serde_json::Value);

#[async_trait::async_trait]
impl Interpreter for Given<'_> {
    fn name(&self) -> String {
        "caller".into()
    }

    async fn interpret(&self, _req: &Request) -> Result<Intent> {
        super::intent::parse(self.0).map_err(Error::new)
    }
}

pub struct AskOutcome {
    pub intent: Intent,
    pub backend: String,
    /// The request as stored (secrets cut out).
    pub request: String,
    /// How many secret-looking values were cut from the request.
    pub redacted: usize,
    pub edit: Edit,
    /// Unified diff of every changed spec file.
    pub diff: String,
    /// Plan changes this request causes (against the recorded state).
    pub changes: Vec<ResourceChange>,
    /// The whole plan after the change, against the recorded state.
    pub plan: Plan,
    pub commit: Option<String>,
    pub branch: Option<String>,
    /// Capability files that failed to load (the rest still work).
    pub warnings: Vec<String>,
}

/// What a request came to: a spec edit (made, or shown for a dry run), or an
/// adoption for `infra adopt` to carry out (ask never reads live systems).
pub enum Asked {
    Edit(Box<AskOutcome>),
    Adopt {
        request: String,
        providers: Vec<String>,
        zone: Option<String>,
        kind: Option<String>,
    },
}

pub async fn ask(
    root: &Path,
    text: &str,
    opts: &AskOptions,
    prompt: Prompt<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Asked> {
    if text.trim().is_empty() {
        return Err(Error::new("the request is empty")
            .hint("say what you want, e.g. infra ask \"Create a new API scanner service\""));
    }
    if text.len() > MAX_REQUEST_BYTES {
        return Err(too_long("the request"));
    }
    let registry = opts.registry;
    let spec = infra_engine::project::load_spec_auditing(root, &registry, opts.color, &|_| false)
        .map_err(|e| {
        Error::new(format!(
            "the current spec is invalid, so ask cannot extend it: {}",
            e.message
        ))
        .detail(e.detail.unwrap_or_default())
        .hint("fix it first (`infra validate`)")
    })?;
    let state = infra_core::state::load(root)?;
    let repo = if opts.dry_run {
        None
    } else {
        Some(ready_repo(root)?)
    };

    let library = Library::load(Some(root));
    let warnings: Vec<String> = library
        .errors
        .iter()
        .map(|e| format!("{}:{}: {}", e.path, e.line, e.message))
        .collect();
    let redacted = redact(text);
    let router = Router::new(&library.caps);
    let world = World::of(&spec);
    let choice = super::backend::choose(&spec.ai, opts.backend.as_deref(), env)?;
    let model: Option<Box<dyn Interpreter>> = choice.into_interpreter()?;
    let given = opts.intent.as_ref().map(Given);
    // Only a model reads the schema lines; the offline rules and a caller's own
    // Intent do not, so the schema is not generated for them.
    let for_model = given.is_none() && model.is_some();
    let request = Request {
        text: redacted.text.clone(),
        capabilities: router
            .rank(&redacted.text)
            .iter()
            .take(TOP)
            .map(|r| library.caps[r.index].doc())
            .collect(),
        spec_view: view::compact(&spec),
        kinds_view: if for_model {
            kinds_view(&spec, &registry)
        } else {
            String::new()
        },
    };
    let offline = Offline {
        library: &library,
        router: &router,
        world: world.clone(),
    };
    let interpreter: &dyn Interpreter = match (&given, &model) {
        (Some(g), _) => g,
        (None, Some(m)) => m.as_ref(),
        (None, None) => &offline,
    };
    let mut intent = interpreter.interpret(&request).await?;
    // A model writes the summary (and questions) itself: they go into the commit
    // message and the report, so they are cut like the request.
    intent.summary = redact(&intent.summary).text;
    for q in &mut intent.questions {
        *q = redact(q).text;
    }
    let backend = interpreter.name();
    let grammar = Grammar {
        world: &world,
        library: &library,
        router: &router,
    };
    super::safety::check(&mut intent, &redacted.text, &grammar)?;
    if let [Operation::Adopt {
        providers,
        zone,
        kind,
    }] = intent.operations.as_slice()
    {
        return Ok(Asked::Adopt {
            request: redacted.text,
            providers: providers.clone(),
            zone: zone.clone(),
            kind: kind.clone(),
        });
    }

    let edit = Expander::new(&library, &spec, &state.state).expand(&intent, prompt)?;
    if edit.files.is_empty() {
        return Err(Error::new("the request changes nothing in the spec"));
    }
    // Validate the whole spec as it would be, in memory.
    let texts = new_texts(&spec, &edit);
    let (new_spec, mut diags) = load::load_texts(root, texts);
    if diags.is_empty() {
        // Audit what the request adds or changes; the rest was as it is before.
        let changed = |r: &infra_core::spec::Resource| {
            spec.resource(&r.address)
                .is_none_or(|old| old.attrs != r.attrs || old.settings != r.settings)
        };
        diags = infra_kit::validate_auditing(&new_spec, &registry.infos(), &changed);
    }
    if !diags.is_empty() {
        diags.sort();
        // The rendering quotes spec lines; a proposed secret is never echoed.
        let (detail, _) =
            infra_core::secrets::mask(&diags.render(&new_spec.sources, opts.color), "[REDACTED]");
        return Err(
            Error::new("the change would make the spec invalid; nothing was written")
                .detail(detail),
        );
    }
    let diff = unified_diff(&spec, &edit);

    // Plans against the recorded state only: ask never contacts live infrastructure.
    let opts_plan = PlanOptions {
        refresh: false,
        skip_audit: true,
        ..PlanOptions::default()
    };
    let no_providers = BTreeMap::new();
    let before = Project::from_parts(root, spec, state.clone(), registry)
        .plan(&opts_plan, &no_providers)
        .await?;
    let after = Project::from_parts(root, new_spec, state, registry)
        .plan(&opts_plan, &no_providers)
        .await?;
    check_no_unasked_destroys(&before, &after, &edit)?;
    let changes: Vec<ResourceChange> = after
        .changes
        .iter()
        .filter(|c| edit.touched.contains(&c.address) || edit.removed.contains(&c.address))
        .filter(|c| !before.changes.iter().any(|b| b == *c))
        .cloned()
        .collect();

    let mut outcome = AskOutcome {
        intent,
        backend,
        request: redacted.text,
        redacted: redacted.found,
        edit,
        diff,
        changes,
        plan: after,
        commit: None,
        branch: opts.branch.clone(),
        warnings,
    };
    if let Some(repo) = repo {
        outcome.commit = write_and_commit(root, &repo, &outcome, opts.branch.as_deref())?;
    }
    Ok(Asked::Edit(Box::new(outcome)))
}

/// The repository must exist, be on a branch, and have no uncommitted spec changes.
fn ready_repo(root: &Path) -> Result<infra_git::Repo> {
    let repo = infra_git::Repo::open(root)?;
    repo.current_branch()?;
    repo.require_clean(
        SPEC_PATHS,
        "commit or stash them first: ask commits only its own change (or use --dry-run)",
    )?;
    Ok(repo)
}

/// "Plan actions ⊆ request intent": nothing is destroyed or replaced unless removed on purpose.
fn check_no_unasked_destroys(before: &Plan, after: &Plan, edit: &Edit) -> Result<()> {
    let destroys = |p: &Plan| -> BTreeSet<String> {
        p.actions()
            .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
            .map(|c| c.address.clone())
            .collect()
    };
    let already = destroys(before);
    let unasked: Vec<String> = destroys(after)
        .into_iter()
        .filter(|a| !already.contains(a) && !edit.removed.contains(a) && !edit.replaced.contains(a))
        .collect();
    if unasked.is_empty() {
        return Ok(());
    }
    Err(Error::new("refusing this change: it would destroy or replace resources the request did not ask to remove")
        .detail(unasked.iter().map(|a| format!("  {a}")).collect::<Vec<_>>().join("\n"))
        .hint("ask for the removal explicitly, naming what should go, or change the spec by hand"))
}

/// All spec file texts after the edit, in load order.
fn new_texts(spec: &infra_core::spec::Spec, edit: &Edit) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for f in spec.sources.files() {
        match edit.files.get(&f.path) {
            Some(Some(text)) => out.push((f.path.clone(), text.clone())),
            Some(None) => {}
            None => out.push((f.path.clone(), f.text.clone())),
        }
    }
    for (path, text) in &edit.files {
        if let (Some(text), false) = (text, spec.sources.files().iter().any(|f| &f.path == path)) {
            out.push((path.clone(), text.clone()));
        }
    }
    // infra.toml first, then infra/ sorted: the loader's order.
    out.sort_by(|a, b| {
        (a.0 != Path::new(load::ROOT_FILE), &a.0).cmp(&(b.0 != Path::new(load::ROOT_FILE), &b.0))
    });
    out
}

fn unified_diff(spec: &infra_core::spec::Spec, edit: &Edit) -> String {
    let mut out = String::new();
    for (path, new) in &edit.files {
        let old = spec
            .sources
            .files()
            .iter()
            .find(|f| &f.path == path)
            .map(|f| f.text.as_str())
            .unwrap_or("");
        let new = new.as_deref().unwrap_or("");
        let p = path.display().to_string();
        let (a, b) = (
            if old.is_empty() {
                "/dev/null".to_string()
            } else {
                format!("a/{p}")
            },
            if new.is_empty() {
                "/dev/null".to_string()
            } else {
                format!("b/{p}")
            },
        );
        out.push_str(
            &similar::TextDiff::from_lines(old, new)
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string(),
        );
    }
    out
}

fn write_and_commit(
    root: &Path,
    repo: &infra_git::Repo,
    o: &AskOutcome,
    branch: Option<&str>,
) -> Result<Option<String>> {
    if let Some(b) = branch {
        repo.create_and_switch_branch(b)?;
    }
    for (path, text) in &o.edit.files {
        let full = root.join(path);
        match text {
            Some(t) => {
                if let Some(parent) = full.parent() {
                    fs_err::create_dir_all(parent)?;
                }
                infra_core::util::write_atomic(&full, t.as_bytes())?;
            }
            None => fs_err::remove_file(&full)?,
        }
    }
    let s = o.plan.summary();
    // One line: a request read from a file must not add paragraphs (or trailers).
    let mut body = format!("Requested: \"{}\"\n\n", one_line(&o.request));
    for c in &o.changes {
        body.push_str(&format!("{} {}\n", symbol(c.action), c.address));
    }
    let trailers = [
        ("Infra-Request", o.request.clone()),
        ("Infra-Capability", o.edit.capabilities.join(", ")),
        ("Infra-Operations", operation_kinds(&o.intent)),
        ("Infra-Backend", o.backend.clone()),
        (
            "Infra-Plan",
            format!("+{} ~{} -{}", s.add, s.change, s.destroy),
        ),
    ];
    let subject: String = format!("ask: {}", one_line(&o.intent.summary))
        .chars()
        .take(72)
        .collect();
    let paths: Vec<String> = o
        .edit
        .files
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    repo.commit_paths(
        &paths,
        &infra_git::message(&subject, Some(body.trim_end()), &trailers),
    )
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "the request from FILE is larger than 64 KiB …".
pub fn too_long(what: &str) -> Error {
    Error::new(format!(
        "{what} is larger than 64 KiB: ask takes requests of at most {MAX_REQUEST_BYTES} bytes"
    ))
    .hint("say what should change in a few sentences; larger changes are edits of the spec files")
}

/// The operation kinds of an intent, in order, once each ("use_capability, set").
fn operation_kinds(intent: &Intent) -> String {
    let mut kinds: Vec<String> = Vec::new();
    for op in &intent.operations {
        let k = serde_json::to_value(op)
            .ok()
            .and_then(|v| v["op"].as_str().map(str::to_string))
            .unwrap_or_default();
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    kinds.join(", ")
}

pub fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
        Action::NoOp => " ",
    }
}

/// The schema `infra schema` prints, for the kinds this spec holds (the ones a
/// `set` can touch), in the compact form a model's prompt has room for.
fn kinds_view(spec: &infra_core::spec::Spec, registry: &infra_kit::Registry) -> String {
    let mut kinds: Vec<&str> = spec
        .resources
        .iter()
        .map(|r| r.address.kind.as_str())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let schema = infra_kit::json_schema::spec_schema(&registry.infos());
    infra_kit::json_schema::compact(&schema, &kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_request_is_refused_before_anything_is_read() {
        let opts = AskOptions {
            backend: None,
            branch: None,
            dry_run: true,
            color: false,
            registry: Registry::new(&[]),
            intent: None,
        };
        let big = "deploy wiki ".repeat(MAX_REQUEST_BYTES / 10);
        let run = ask(
            Path::new("/nonexistent"),
            &big,
            &opts,
            &|_, _| None,
            &|_| None,
        );
        let e = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(run)
            .err()
            .expect("refused");
        assert!(
            e.message.contains("larger than 64 KiB") && e.message.contains("65536 bytes"),
            "{}",
            e.message
        );
    }
}
