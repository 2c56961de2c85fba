//! `infra capabilities list|show NAME|new NAME|check`: the capability library as the
//! project sees it (built-ins overridden by `capabilities/` and `templates/`).
//! Outside a project only the built-in library is shown and checked.
//!
//! The subcommand enum lives here rather than in args.rs so the wiring there stays
//! one line.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::capability::{self, Capability, ExampleRunner, Library};
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::report::{self, CapabilityList, Output};

#[derive(Debug, Subcommand)]
pub enum CapabilitiesCommand {
    /// List capabilities: name, source (builtin or project) and summary.
    List {
        /// Print JSON, with each capability's parameters.
        #[arg(long)]
        json: bool,
    },
    /// Show one capability: its params, examples and documentation.
    Show {
        /// Capability name, e.g. web-service.
        name: String,
    },
    /// Write capabilities/NAME.md and templates/NAME.toml.j2, a working starting point.
    New {
        /// Name of the new capability (lowercase letters, digits and '-').
        name: String,
    },
    /// Check every capability: files, templates, rendered output and examples.
    Check,
}

pub fn run(cwd: &Path, cmd: CapabilitiesCommand, ui: &Ui) -> Result<i32> {
    let root = crate::project::find_root(cwd).ok();
    match cmd {
        CapabilitiesCommand::List { json } => list(&Library::load(root.as_deref()), json, ui),
        CapabilitiesCommand::Show { name } => show(&Library::load(root.as_deref()), &name, ui),
        CapabilitiesCommand::New { name } => new(cwd, &name, ui),
        CapabilitiesCommand::Check => check(&Library::load(root.as_deref()), ui),
    }
}

/// Every example runs through the offline interpreter, as a test.
fn example_runner(lib: &Library) -> Option<Box<dyn ExampleRunner + '_>> {
    Some(Box::new(crate::ask::examples::OfflineExamples::new(lib)))
}

fn list(lib: &Library, json: bool, ui: &Ui) -> Result<i32> {
    let list = CapabilityList::new(lib);
    report::emit(&list, if json { Output::Json } else { Output::Human }, ui);
    if !json {
        print_errors(lib.errors.iter(), ui);
    }
    Ok(if lib.errors.is_empty() { 0 } else { 1 })
}

fn show(lib: &Library, name: &str, ui: &Ui) -> Result<i32> {
    let Some(c) = lib.get(name) else {
        let mut hint = "`infra capabilities list` shows them all".to_string();
        if let Some(close) =
            crate::spec::load::closest(name, lib.caps.iter().map(|c| c.name.as_str()))
        {
            hint = format!("did you mean `{close}`? {hint}");
        }
        return Err(Error::new(format!("no capability named `{name}`")).hint(hint));
    };
    println!("{} ({}, {})", ui.bold(&c.name), c.source.as_str(), c.path);
    println!("  {}", c.summary);
    println!("  action: {}", c.action.as_str());
    if let Some(t) = &c.template {
        let from = lib
            .template_paths
            .get(t)
            .map(String::as_str)
            .unwrap_or("missing");
        println!("  template: {t} ({from})");
    }
    if !c.triggers.is_empty() {
        println!("  triggers: {}", c.triggers.join(", "));
    }
    print_params(c);
    if !c.examples.is_empty() {
        println!("\nExamples:");
        for e in &c.examples {
            println!("  \"{}\" → {}", e.request, expectation(e));
        }
    }
    println!("\n{}", c.body);
    Ok(0)
}

fn print_params(c: &Capability) {
    if c.params.is_empty() {
        return;
    }
    let w = c
        .params
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "\n{:<w$}  {:<11}  {:<8}  {:<11}  DESCRIPTION",
        "PARAM", "TYPE", "REQUIRED", "DEFAULT"
    );
    for p in &c.params {
        let default = p
            .default
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default();
        let mut desc = p.description.clone();
        if let Some(pool) = &p.pool {
            desc.push_str(&format!(" (pool {pool})"));
        }
        let req = if p.required { "yes" } else { "no" };
        println!(
            "{:<w$}  {:<11}  {:<8}  {:<11}  {desc}",
            p.name,
            p.ty.as_str(),
            req,
            default
        );
    }
}

fn expectation(e: &capability::Example) -> String {
    if e.declined {
        return "(declined)".into();
    }
    e.expect
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn new(cwd: &Path, name: &str, ui: &Ui) -> Result<i32> {
    let root = crate::project::find_root(cwd)?;
    let (md, tpl) = capability::scaffold(name).map_err(Error::new)?;
    let md_path: PathBuf = root
        .join(capability::library::CAPABILITY_DIR)
        .join(format!("{name}.md"));
    let tpl_path: PathBuf = root
        .join(capability::library::TEMPLATE_DIR)
        .join(format!("{name}.toml.j2"));
    for p in [&md_path, &tpl_path] {
        if p.exists() {
            return Err(Error::new(format!("{} already exists", p.display()))
                .hint("pick another name, or edit the existing file"));
        }
    }
    if Library::load(Some(&root))
        .get(name)
        .is_some_and(|c| c.source == capability::Source::Project)
    {
        return Err(Error::new(format!(
            "the project already has a capability named `{name}`"
        ))
        .hint("`infra capabilities show NAME` says which file defines it"));
    }
    for (p, text) in [(&md_path, &md), (&tpl_path, &tpl)] {
        fs_err::create_dir_all(p.parent().expect("a file under the root"))?;
        fs_err::write(p, text)?;
    }
    println!("  wrote {}/{name}.md", capability::library::CAPABILITY_DIR);
    println!(
        "  wrote {}/{name}.toml.j2",
        capability::library::TEMPLATE_DIR
    );
    println!(
        "\n{} Edit both files, then `infra capabilities check`.",
        ui.green(&format!("Capability `{name}` created."))
    );
    Ok(0)
}

fn check(lib: &Library, ui: &Ui) -> Result<i32> {
    let mut runner = example_runner(lib);
    let report = capability::check(
        lib,
        runner.as_deref_mut().map(|r| r as &mut dyn ExampleRunner),
    );
    print_errors(report.errors.iter(), ui);
    let examples = if runner.is_some() {
        format!(
            "{} of {} examples run",
            report.examples_run, report.examples_total
        )
    } else {
        format!(
            "{} examples parsed (not run: no example runner)",
            report.examples_total
        )
    };
    let summary = format!(
        "{} capabilities, {} template renders, {examples}",
        report.capabilities, report.renders
    );
    if report.ok() {
        println!("{} {summary}.", ui.green("Capabilities OK:"));
        Ok(0)
    } else {
        let n = report.errors.len();
        println!(
            "{} {n} problem{}; {summary}.",
            ui.red_bold("Capabilities have errors:"),
            if n == 1 { "" } else { "s" }
        );
        Ok(1)
    }
}

fn print_errors<'a>(errors: impl Iterator<Item = &'a capability::CapError>, ui: &Ui) {
    for e in errors {
        let loc = if e.line > 0 {
            format!("{}:{}", e.path, e.line)
        } else {
            e.path.clone()
        };
        eprintln!("{}: {loc}: {}", ui.red_bold("error"), e.message);
        if let Some(h) = &e.help {
            eprintln!("  help: {h}");
        }
    }
}
