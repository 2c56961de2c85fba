//! `infra apply [PLANFILE]` and `infra destroy`: plan, confirm, execute, record, commit.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::shared_state::{publish, share};
use crate::apply::{lock::Lock, Op, Outcome};
use crate::cli::args::{ApplyArgs, DestroyArgs, ExecFlags, PlanFlags, TextFormat};
use crate::cli::output::Ui;
use crate::cli::progress::Progress;
use crate::error::{Error, Result};
use crate::git::{self, Repo};
use crate::plan::Plan;
use crate::project::{PlanOptions, Project};
use crate::providers::registry;
use crate::render;
use crate::report::card::{self, Card, Places};
use crate::report::outputs::Shown;
use crate::report::{self, ApplyReport, Output};
use crate::spec::Spec;
use crate::state;
use infra_engine::cycle::Apply;

struct Mode {
    saved: Option<PathBuf>,
    /// The digest a reviewer approved: nothing else is applied.
    expect_digest: Option<String>,
    flags: PlanFlags,
    destroy: bool,
    exec: ExecFlags,
}

pub fn run(cwd: &Path, a: ApplyArgs, ui: &Ui) -> Result<i32> {
    let mode = Mode {
        saved: a.plan_file,
        expect_digest: a.expect_digest,
        flags: a.flags,
        destroy: false,
        exec: a.exec,
    };
    execute(cwd, mode, ui)
}

pub fn destroy(cwd: &Path, a: DestroyArgs, ui: &Ui) -> Result<i32> {
    let mode = Mode {
        saved: None,
        expect_digest: None,
        flags: a.flags,
        destroy: true,
        exec: a.exec,
    };
    execute(cwd, mode, ui)
}

fn execute(cwd: &Path, mode: Mode, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let json = mode.exec.format == TextFormat::Json;
    // A reviewed digest is the approval: it needs no question at a terminal.
    let approved = mode.expect_digest.is_some();
    if json && !mode.exec.yes && mode.saved.is_none() && !approved {
        return Err(Error::new("--format json needs --yes (or a saved plan)")
            .hint("nothing can be confirmed while the output is JSON; review the plan with `infra plan` first"));
    }
    // Everything that could refuse runs before anything changes.
    let saved = mode.saved.as_deref().map(super::plan::load).transpose()?;
    let repo = if mode.exec.no_commit {
        None
    } else {
        Some(open_repo(&root)?)
    };
    let head = match &repo {
        Some(r) => check_committed(r, mode.exec.allow_dirty)?,
        None => None,
    };
    let operation = if mode.destroy {
        "infra destroy"
    } else {
        "infra apply"
    };
    let _lock = Lock::acquire(&root, operation)?;
    let refresh = saved.as_ref().map_or(mode.flags.refresh, |p| p.refreshed);
    let rt = super::runtime()?;
    let mut project = if refresh {
        Project::open_prefetching(&root, registry(), ui.color, rt.handle())?
    } else {
        Project::open(&root, registry(), ui.color)?
    };
    let mut shared = share(
        repo.as_ref(),
        &project.spec.state,
        mode.exec.push,
        operation,
    )?;
    let (targets, replace, destroy) = match &saved {
        Some(p) => (p.targets.clone(), p.replace.clone(), p.destroy),
        None => (
            mode.flags.targets.clone(),
            mode.flags.replace.clone(),
            mode.destroy,
        ),
    };
    let opts = PlanOptions {
        refresh,
        targets,
        replace,
        destroy,
        spec_commit: head.clone(),
        skip_audit: false,
    };
    let providers = project.providers()?;
    for gone in rt.block_on(infra_engine::cycle::tidy(&providers)) {
        eprintln!("Removed a temp file an interrupted apply left: {gone}");
    }
    let planned = rt.block_on(project.plan_with_live(&opts, &providers))?;
    let plan = &planned.plan;
    if let Some(saved) = &saved {
        check_not_stale(saved, plan)?;
    }
    if let Some(expected) = &mode.expect_digest {
        check_digest(expected, plan)?;
    }
    if !json {
        print!("{}", render::render(plan, render::Format::Human, ui.color));
    }

    let staged = Apply::prepare(&project, &planned, opts.refresh);
    if !plan.has_work() {
        if let Some(s) = &mut shared {
            s.arm()?;
        }
        let changed = staged.record_refresh(&mut project)?;
        let code = finish_without_changes(changed, repo.as_ref(), head.as_deref(), !json)?;
        publish(shared, repo.as_ref())?;
        let (_, outputs) = access(&root, &project.spec, plan, &Outcome::default(), destroy);
        if json {
            let report =
                ApplyReport::new(&Outcome::default(), changed).with_access(vec![], outputs);
            report::emit(&report, Output::Json, ui);
        } else if !outputs.is_empty() {
            print!("\n{}", report::outputs::human(&[], &outputs, ui));
        }
        return Ok(code);
    }
    if saved.is_none() && !mode.exec.yes && !approved {
        let (question, detail) = if destroy {
            ("Do you really want to destroy all resources?", "infra will destroy all your managed infrastructure, as shown above.\n  There is no undo.")
        } else {
            (
                "Do you want to perform these actions?",
                "infra will perform the actions described above.",
            )
        };
        if !super::confirm(ui, question, detail)? {
            println!("\nApply cancelled.");
            return Ok(1);
        }
    }
    let desired = if destroy {
        &[][..]
    } else {
        &planned.desired[..]
    };
    let reporter = Arc::new(Progress::new(ui.stderr_tty));
    if let Some(s) = &mut shared {
        s.arm()?;
    }
    let done = rt.block_on(staged.run(
        &mut project,
        plan,
        desired,
        &providers,
        reporter,
        mode.exec.parallelism,
    ))?;
    let (outcome, changed) = (done.outcome, done.state_changed);
    let (groups, outputs) = access(&root, &project.spec, plan, &outcome, destroy);
    let summary = ApplyReport::new(&outcome, changed).with_access(groups, outputs);
    report::emit(
        &summary,
        if json { Output::Json } else { Output::Human },
        ui,
    );
    if changed || !outcome.done.is_empty() || !outcome.failed.is_empty() {
        if let Some(repo) = &repo {
            commit_state(
                repo,
                plan,
                &outcome,
                head.as_deref(),
                mode.exec.allow_dirty && head.is_none(),
                destroy,
            )?;
        }
    }
    publish(shared, repo.as_ref())?;
    // The process ends soon: freeing 10,000 resources' worth of maps one by one is wasted work.
    std::mem::forget((planned, project));
    if outcome.ok() {
        Ok(0)
    } else {
        let lines: Vec<String> =
            outcome
                .failed
                .iter()
                .map(|(a, op, e)| format!("  {a}: {} failed: {e}", op_name(*op)))
                .chain(outcome.skipped.iter().map(|(a, op)| {
                    format!("  {a}: {} skipped (a dependency failed)", op_name(*op))
                }))
                .collect();
        Err(Error::new(format!("apply failed: {} operation(s) failed, {} skipped", outcome.failed.len(), outcome.skipped.len()))
            .detail(lines.join("\n"))
            .hint("the state records what did happen; fix the cause and run `infra plan` to see what is left"))
    }
}

/// The cards of the groups this apply created or changed and the spec's
/// `[outputs]`, from the state it saved (sensitive outputs hidden). Never fails
/// the apply: what was done is recorded, and is committed next.
fn access(
    root: &Path,
    spec: &Spec,
    plan: &Plan,
    outcome: &Outcome,
    destroy: bool,
) -> (Vec<Card>, BTreeMap<String, Shown>) {
    let done: HashSet<&str> = outcome.done.iter().map(|(a, _)| a.as_str()).collect();
    let touched: BTreeSet<&str> = plan
        .changes
        .iter()
        .filter(|c| done.contains(c.address.as_str()))
        .filter_map(|c| c.group.as_deref())
        .collect();
    if destroy || (touched.is_empty() && spec.outputs.is_empty()) {
        return Default::default();
    }
    let Ok(loaded) = state::load(root) else {
        return Default::default();
    };
    let places = Places::of(spec);
    let cards = touched
        .into_iter()
        .filter_map(|g| card::for_group(&loaded.state, g, &places))
        // A group of files has nothing to reach: no card to read past.
        .filter(|c| !c.is_empty())
        .collect();
    (cards, report::outputs::outputs(spec, &loaded.state, false))
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Create => "create",
        Op::Update => "update",
        Op::Delete => "delete",
        Op::Mark => "mark",
    }
}

fn open_repo(root: &Path) -> Result<Repo> {
    let repo = Repo::open(root)?;
    repo.current_branch()?;
    Ok(repo)
}

/// The spec must be committed, so every applied state maps to a commit.
fn check_committed(repo: &Repo, allow_dirty: bool) -> Result<Option<String>> {
    let dirty = repo.dirty(super::SPEC_PATHS)?;
    if !dirty.is_empty() && !allow_dirty {
        let list: Vec<String> = dirty.iter().map(|p| format!("  {p}")).collect();
        return Err(Error::new("the spec has uncommitted changes")
            .detail(list.join("\n"))
            .hint(
                "commit them first (every applied state maps to a commit), or pass --allow-dirty",
            ));
    }
    if dirty.is_empty() {
        repo.head()
    } else {
        Ok(None)
    }
}

/// The fresh plan must be the one a reviewer approved, to the byte.
fn check_digest(expected: &str, now: &Plan) -> Result<()> {
    let digest = now.digest();
    if digest == expected.trim() {
        return Ok(());
    }
    let s = now.summary();
    let mut moved = vec![format!(
        "the plan now: +{} ~{} -{} (digest {digest})",
        s.add, s.change, s.destroy
    )];
    moved.extend(
        now.actions()
            .map(|c| format!("  {} {}", c.action.symbol(), c.address)),
    );
    moved.push(format!(
        "made from spec {} against state serial {}",
        &now.spec_digest[..now.spec_digest.len().min(12)],
        now.state_serial
    ));
    Err(Error::new(format!(
        "the plan changed since it was reviewed (expected digest {}); nothing was applied",
        expected.trim()
    ))
    .detail(moved.join("\n"))
    .hint("review the new plan (`infra plan`) and approve its digest"))
}

fn check_not_stale(saved: &Plan, now: &Plan) -> Result<()> {
    let stale = |why: String| {
        Err(Error::new(format!("saved plan is stale: {why}"))
            .hint("make a new plan with `infra plan --out FILE` and review it"))
    };
    if saved.spec_digest != now.spec_digest {
        return stale("the spec changed since the plan was saved".into());
    }
    // An empty lineage means "no state yet"; the serial check below covers it.
    if !saved.state_lineage.is_empty() && saved.state_lineage != now.state_lineage {
        return stale("it was made for another state (lineage differs)".into());
    }
    if saved.state_serial != now.state_serial {
        return stale(format!(
            "the state moved on since the plan was saved (serial {} -> {})",
            saved.state_serial, now.state_serial
        ));
    }
    let key = |p: &Plan| -> Vec<(
        String,
        crate::plan::Action,
        Option<crate::plan::SharedAttrs>,
    )> {
        p.actions()
            .map(|c| (c.address.clone(), c.action, c.after.clone()))
            .collect()
    };
    if key(saved) != key(now) {
        let moved: Vec<String> = now
            .actions()
            .filter(|c| {
                !saved
                    .actions()
                    .any(|s| s.address == c.address && s.action == c.action && s.after == c.after)
            })
            .map(|c| c.address.clone())
            .chain(
                saved
                    .actions()
                    .filter(|s| !now.actions().any(|c| c.address == s.address))
                    .map(|s| s.address.clone()),
            )
            .collect();
        return stale(format!(
            "live infrastructure changed since the plan was saved ({})",
            moved.join(", ")
        ));
    }
    Ok(())
}

fn finish_without_changes(
    changed: bool,
    repo: Option<&Repo>,
    head: Option<&str>,
    say: bool,
) -> Result<i32> {
    // A state saved by an apply that was killed before its commit differs from
    // HEAD's copy though this refresh changed nothing: it is committed now.
    let uncommitted = match repo {
        Some(repo) if !changed => !repo.dirty(&[state::STATE_FILE])?.is_empty(),
        _ => false,
    };
    let (subject, body, said) = if changed {
        (
            "infra apply: record refreshed state",
            "The live objects differed from the recorded state; the state now records them.",
            "The recorded state was updated to match live objects.",
        )
    } else if uncommitted {
        (
            "infra apply: record the state an interrupted apply saved",
            "An earlier apply saved this state and stopped before committing it.",
            "The state an interrupted apply saved is now committed.",
        )
    } else {
        return Ok(0);
    };
    if let Some(repo) = repo {
        let trailers = [
            ("Infra-Plan", "+0 ~0 -0".to_string()),
            (
                "Infra-Applied-Spec",
                head.unwrap_or("uncommitted").to_string(),
            ),
        ];
        repo.commit_paths(
            &[state::STATE_FILE],
            &git::message(subject, Some(body), &trailers),
        )?;
    }
    if say {
        println!("\n{said}");
    }
    Ok(0)
}

fn commit_state(
    repo: &Repo,
    plan: &Plan,
    outcome: &Outcome,
    head: Option<&str>,
    dirty: bool,
    destroy: bool,
) -> Result<()> {
    let s = plan.summary();
    let counts = format!("+{} ~{} -{}", s.add, s.change, s.destroy);
    let verb = if destroy {
        "infra destroy"
    } else {
        "infra apply"
    };
    let subject = if outcome.ok() {
        format!("{verb}: {counts}")
    } else {
        format!(
            "{verb} (partial, {} failed): {counts}",
            outcome.failed.len()
        )
    };
    let mut body = String::new();
    for (a, op) in &outcome.done {
        let sym = match op {
            Op::Create => "+",
            Op::Update => "~",
            Op::Delete => "-",
            Op::Mark => "=",
        };
        body.push_str(&format!("{sym} {a}\n"));
    }
    for (a, op, e) in &outcome.failed {
        body.push_str(&format!("! {a}: {} failed: {e}\n", op_name(*op)));
    }
    for (a, op) in &outcome.skipped {
        body.push_str(&format!("! {a}: {} skipped\n", op_name(*op)));
    }
    let spec = match (head, dirty) {
        (Some(h), _) => h.to_string(),
        (None, true) => "uncommitted (--allow-dirty)".to_string(),
        (None, false) => "none".to_string(),
    };
    let trailers = [
        ("Infra-Plan", counts),
        ("Infra-Applied-Spec", spec),
        (
            "Infra-Result",
            if outcome.ok() {
                "complete".to_string()
            } else {
                "partial".to_string()
            },
        ),
    ];
    repo.commit_paths_opts(
        &[state::STATE_FILE],
        &git::message(&subject, Some(body.trim_end()), &trailers),
        true,
    )?;
    Ok(())
}
