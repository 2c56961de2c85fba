//! `infra ask "REQUEST"`: a request in words becomes a reviewed spec commit.

use std::io::Read;
use std::path::Path;

use crate::ask::run::{ask, too_long, AskOptions, Asked, MAX_REQUEST_BYTES};
use crate::cli::args::{AskArgs, AskFormat};
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::report::{self, AskReport, Output};

pub fn run(cwd: &Path, args: AskArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let from_stdin = args.file.is_none() && args.request == ["-"];
    let request = match &args.file {
        Some(path) => {
            let file = std::fs::File::open(cwd.join(path))
                .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
            read_request(file, &path.display().to_string())?
        }
        None if from_stdin => read_request(std::io::stdin().lock(), "standard input")?,
        None => args.request.join(" "),
    };
    let opts = AskOptions {
        backend: args.backend.clone(),
        branch: args.branch.clone(),
        dry_run: args.dry_run,
        color: ui.color,
        registry: crate::providers::registry(),
        intent: match &args.intent_file {
            Some(path) => Some(read_intent(&cwd.join(path))?),
            None => None,
        },
    };
    // Standard input held the request: there is no one to answer questions on it.
    let tty = ui.stdin_tty && !from_stdin && args.format == AskFormat::Human;
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
    let outcome = match super::runtime()?.block_on(ask(&root, &request, &opts, &prompt, &env))? {
        Asked::Edit(outcome) => outcome,
        // Taking over what runs reads the providers: that is `infra adopt`'s job.
        Asked::Adopt {
            request,
            providers,
            zone,
            kind,
        } => {
            let mut line = vec!["infra adopt".to_string()];
            line.extend(providers.iter().cloned());
            if let Some(z) = &zone {
                line.push(format!("--zone {z}"));
            }
            if let Some(k) = &kind {
                line.push(format!("--only {k}"));
            }
            eprintln!(
                "\"{request}\" asks to take over what already runs: {}",
                line.join(" ")
            );
            let adopt = crate::cli::args::AdoptArgs {
                providers,
                zone,
                only: kind,
                pattern: None,
                dry_run: args.dry_run,
                branch: args.branch.clone(),
                no_commit: false,
            };
            return super::adopt::run(cwd, adopt, ui);
        }
    };

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
    if args.push {
        push_branch(&root)?;
    }
    Ok(0)
}

/// `--push`: the branch ask committed on goes to the remote for review.
fn push_branch(root: &Path) -> Result<()> {
    let (spec, _) = crate::spec::load::load(root)?;
    let name = super::shared_state::remote_name(&spec.state, true).unwrap_or_default();
    let repo = crate::git::Repo::open(root)?;
    let remote = repo.remote(&name)?;
    remote.publish_branch()?;
    eprintln!(
        "Pushed branch {} to {name}; open a pull request from it.",
        remote.branch
    );
    Ok(())
}

/// `--intent-file`: the caller's own Intent (JSON), at most the request's size.
fn read_intent(path: &Path) -> Result<serde_json::Value> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    let text = read_request(file, &path.display().to_string())?;
    serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("{}: not a JSON Intent: {e}", path.display())))
}

/// A request from a file or standard input: read no more than the limit (plus one
/// byte, to tell that there is more), as UTF-8.
fn read_request(from: impl Read, source: &str) -> Result<String> {
    let mut bytes = Vec::new();
    from.take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::new(format!("cannot read the request from {source}: {e}")))?;
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(too_long(&format!("the request from {source}")));
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::new(format!("the request from {source} is not UTF-8 text")))
}
