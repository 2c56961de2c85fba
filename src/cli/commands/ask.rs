//! `infra ask "REQUEST"`: a request in words becomes a reviewed spec commit.

use std::path::Path;

use crate::ask::run::{ask, AskOptions};
use crate::cli::args::{AskArgs, AskFormat};
use crate::cli::output::Ui;
use crate::error::Result;
use crate::report::{self, AskReport, Output};

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
    let format = match args.format {
        AskFormat::Human => Output::Human,
        AskFormat::Json => Output::Json,
        AskFormat::Markdown => Output::Markdown,
    };
    report::emit(&AskReport::new(&outcome, args.dry_run), format, ui);
    Ok(0)
}
