//! `infra plan`: refresh, diff, render; optionally save the plan for `apply`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cli::args::{Format, PlanArgs};
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::project::{PlanOptions, Project};
use crate::providers::registry;
use crate::render;

/// Version of the saved-plan envelope; an unknown one is refused.
pub const SAVED_PLAN_VERSION: u64 = 1;

#[derive(Serialize, Deserialize)]
pub struct SavedPlan {
    pub infra_saved_plan: u64,
    pub plan: Plan,
}

pub fn run(cwd: &Path, args: PlanArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let rt = super::runtime()?;
    let project = if args.flags.refresh {
        Project::open_prefetching(&root, registry(), ui.color, rt.handle())?
    } else {
        Project::open(&root, registry(), ui.color)?
    };
    let opts = PlanOptions {
        refresh: args.flags.refresh,
        targets: args.flags.targets.clone(),
        replace: args.flags.replace.clone(),
        destroy: args.destroy,
        spec_commit: spec_commit(&root),
        skip_audit: false,
    };
    // Without a refresh nothing live is read, so no provider needs to be reachable.
    let providers = if opts.refresh {
        project.providers()?
    } else {
        Default::default()
    };
    if opts.refresh {
        if let Some(warning) = super::shared_state::behind(&root, &project.spec.state) {
            eprintln!("warning: {warning}");
        }
    }
    let planned = rt.block_on(project.plan_with_live(&opts, &providers))?;
    let plan = &planned.plan;
    let format = match args.format {
        Format::Human => render::Format::Human,
        Format::Json => render::Format::Json,
        Format::Markdown => render::Format::Markdown,
    };
    print!("{}", render::render(plan, format, ui.color));
    if let Some(path) = &args.json_out {
        // The same plan as printed, for tools: one refresh, two renderings.
        let text = render::render(plan, render::Format::Json, false);
        crate::util::write_atomic(path, text.as_bytes())
            .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(out) = &args.out {
        save(out, plan)?;
        if format == render::Format::Human {
            println!("\nSaved the plan to {}. To perform exactly these actions, run:\n    infra apply {}", out.display(), out.display());
        }
    } else if format == render::Format::Human && plan.has_changes() {
        println!("\nNote: You didn't use the --out option to save this plan, so infra can't guarantee to take exactly these actions if you run \"infra apply\" now.");
    }
    let code = if args.detailed_exitcode && plan.has_work() {
        2
    } else {
        0
    };
    // The process ends here: freeing 10,000 resources' worth of maps one by one is wasted work.
    std::mem::forget((planned, project));
    Ok(code)
}

/// The spec's commit when the spec is committed and clean; None otherwise.
pub fn spec_commit(root: &Path) -> Option<String> {
    let repo = crate::git::Repo::open(root).ok()?;
    let dirty = repo.dirty(super::SPEC_PATHS).ok()?;
    if dirty.is_empty() {
        repo.head().ok().flatten()
    } else {
        None
    }
}

fn save(path: &Path, plan: &Plan) -> Result<()> {
    let saved = SavedPlan {
        infra_saved_plan: SAVED_PLAN_VERSION,
        plan: plan.clone(),
    };
    let mut text = serde_json::to_string_pretty(&saved).expect("plan serialises");
    text.push('\n');
    crate::util::write_atomic(path, text.as_bytes())
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
}

/// Read a saved plan, refusing unknown versions with a clear message.
pub fn load(path: &Path) -> Result<Plan> {
    let text = fs_err::read_to_string(path).map_err(|e| Error::new(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(format!(
            "{}:{}:{}: not a saved plan: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
        .hint("create one with `infra plan --out FILE`")
    })?;
    match value.get("infra_saved_plan").and_then(|v| v.as_u64()) {
        Some(SAVED_PLAN_VERSION) => {}
        Some(v) => {
            return Err(Error::new(format!("{}: saved-plan version {v} is not supported (this infra reads version {SAVED_PLAN_VERSION})", path.display()))
                .hint("make a new plan with this infra: `infra plan --out FILE`"))
        }
        None => return Err(Error::new(format!("{}: not a saved plan (no infra_saved_plan version)", path.display())).hint("create one with `infra plan --out FILE`")),
    }
    let saved: SavedPlan = serde_json::from_value(value)
        .map_err(|e| Error::new(format!("{}: damaged saved plan: {e}", path.display())))?;
    if !saved.plan.format_version.starts_with("1.") {
        return Err(Error::new(format!(
            "{}: plan format {} is not supported",
            path.display(),
            saved.plan.format_version
        )));
    }
    Ok(saved.plan)
}
