//! `infra ask "REQUEST"`: a request in words becomes a reviewed spec commit.

use std::path::Path;

use crate::ask::run::{ask, symbol, AskOptions};
use crate::cli::args::{AskArgs, AskFormat};
use crate::cli::output::Ui;
use crate::error::Result;
use crate::plan::Action;

pub fn run(cwd: &Path, args: AskArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let request = args.request.join(" ");
    let opts = AskOptions {
        backend: args.backend.clone(),
        branch: args.branch.clone(),
        dry_run: args.dry_run,
        color: ui.color,
        registry: crate::providers::registry(),
    };
    let tty = ui.stdin_tty && args.format == AskFormat::Human;
    let prompt = move |cap: &crate::capability::Capability,
                       p: &crate::capability::Param|
          -> Option<serde_json::Value> {
        if !tty {
            return None;
        }
        let answer: String = dialoguer::Input::new()
            .with_prompt(format!("{} needs {} ({})", cap.name, p.name, p.description))
            .validate_with(|s: &String| p.ty.check(&serde_json::Value::from(s.clone())).map(|_| ()))
            .interact_text()
            .ok()?;
        p.ty.check(&serde_json::Value::from(answer)).ok()
    };
    let env = |k: &str| std::env::var(k).ok();
    let outcome = super::runtime()?.block_on(ask(&root, &request, &opts, &prompt, &env))?;

    for w in &outcome.warnings {
        eprintln!("warning: capability not loaded: {w}");
    }
    if outcome.redacted > 0 {
        eprintln!(
            "warning: the request contained {} value(s) that look like secrets; they were cut out and stored nowhere.\n         Keep secrets in the environment and refer to them in the spec as \"env:NAME\".",
            outcome.redacted
        );
    }
    if args.format == AskFormat::Json {
        let changes: Vec<serde_json::Value> = outcome
            .changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "address": c.address,
                    "action": c.action,
                    "attributes": if c.action == Action::Delete { &c.before } else { &c.after },
                })
            })
            .collect();
        let files: Vec<String> = outcome
            .edit
            .files
            .keys()
            .map(|p| p.display().to_string())
            .collect();
        let s = outcome.plan.summary();
        let out = serde_json::json!({
            "request": outcome.request,
            "redacted": outcome.redacted,
            "backend": outcome.backend,
            "intent": outcome.intent,
            "operations": outcome.intent.operations,
            "understood": outcome.edit.lines,
            "capabilities": outcome.edit.capabilities,
            "changes": changes,
            "files": files,
            "plan": { "add": s.add, "change": s.change, "destroy": s.destroy },
            "commit": outcome.commit,
            "branch": outcome.branch,
            "dry_run": args.dry_run,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(0);
    }
    println!("{} ({}):", ui.bold("Understood"), outcome.backend);
    for line in &outcome.edit.lines {
        println!("  {line}");
    }
    println!();
    print!("{}", colour_diff(&outcome.diff, ui));
    println!();
    for c in &outcome.changes {
        println!("  {} {}", symbol(c.action), c.address);
    }
    let s = outcome.plan.summary();
    println!(
        "\nPlan (against the recorded state): {} to add, {} to change, {} to destroy.",
        s.add, s.change, s.destroy
    );
    match (&outcome.commit, args.dry_run) {
        (_, true) => println!("\nDry run: nothing was written."),
        (Some(c), _) => {
            let on = outcome
                .branch
                .as_deref()
                .map(|b| format!(" on new branch {b}"))
                .unwrap_or_default();
            println!(
                "\n{} {}{on}. Review it with `infra plan`, then `infra apply`.",
                ui.green("Committed"),
                &c[..8.min(c.len())]
            );
        }
        (None, _) => println!("\nNothing to commit."),
    }
    Ok(0)
}

fn colour_diff(diff: &str, ui: &Ui) -> String {
    if !ui.color {
        return diff.to_string();
    }
    diff.lines()
        .map(|l| {
            let styled = if l.starts_with("+++") || l.starts_with("---") {
                console::style(l).bold().to_string()
            } else if l.starts_with('+') {
                console::style(l).green().to_string()
            } else if l.starts_with('-') {
                console::style(l).red().to_string()
            } else if l.starts_with("@@") {
                console::style(l).cyan().to_string()
            } else {
                l.to_string()
            };
            styled + "\n"
        })
        .collect()
}
