//! `infra init [--example local]`: write a commented infra.toml, the .gitignore
//! lines, and the spec schema with a .taplo.toml that points editors at it;
//! create the git repository if there is none. Commits nothing.

use std::path::Path;

use include_dir::{include_dir, Dir};

use crate::cli::args::{Example, InitArgs};
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::spec::load::ROOT_FILE;

static LOCAL_EXAMPLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/examples/local");

const GITIGNORE_LINES: &[&str] = &[
    ".infra/lock",
    ".infra/journal.jsonl",
    ".infra/.*.tmp.*",
    ".infra/mcp.log",
];

/// taplo's configuration: the rule that ties the spec files to the schema.
const TAPLO_RULE: &str = r#"# Editors that use taplo (VS Code's Even Better TOML, for one) check and
# complete infra's spec files against this schema; `infra schema --write`
# refreshes it after an upgrade of infra.
[[rule]]
include = ["infra.toml", "infra/**/*.toml"]

[rule.schema]
path = "{schema}"
"#;

const EMPTY: &str = r#"# infra.toml: project settings, providers, address pools and policy.
# Resources go in infra/*.toml (or below) as [<kind>.<name>] tables;
# `infra ask "..."` writes them for you. Reference: README.md of infra.

[project]
name = "{name}"
# domain = "lab.example.com"        # default zone for names

# A provider instance: [providers.NAME] with its kind and settings.
# Secrets are always references ("env:NAME" or "file:PATH"), never literals.
#
# [providers.local]
# kind = "file"
# root = "out"

# [pools.lan]
# cidr = "192.168.1.0/24"
# range = "192.168.1.50-192.168.1.199"
# gateway = "192.168.1.1"

# [policy]
# protect = ["container.db"]        # never deleted or replaced
# max_destroy = 3                   # most objects one apply may delete
"#;

pub fn run(cwd: &Path, args: InitArgs, ui: &Ui) -> Result<i32> {
    fs_err::create_dir_all(cwd)?;
    if cwd.join(ROOT_FILE).exists() {
        return Err(
            Error::new(format!("{} already exists in {}", ROOT_FILE, cwd.display()))
                .hint("this directory is already an infra project"),
        );
    }
    let name = args.name.unwrap_or_else(|| {
        let n = cwd
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_else(|| "infra".into());
        n.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    });
    let created_repo = match crate::git::Repo::open(cwd) {
        Ok(_) => false,
        Err(_) => {
            crate::git::Repo::init(cwd)?;
            true
        }
    };
    let mut written = Vec::new();
    match args.example {
        None => {
            fs_err::write(cwd.join(ROOT_FILE), EMPTY.replace("{name}", &name))?;
            written.push(ROOT_FILE.to_string());
            fs_err::create_dir_all(cwd.join("infra"))?;
        }
        Some(Example::Local) => {
            write_dir(&LOCAL_EXAMPLE, cwd, &mut written)?;
        }
    }
    // Committed with the spec, so every clone's editor and CI has it.
    super::schema::write_project_copy(cwd)?;
    written.push(super::schema::SCHEMA_FILE.into());
    if let Some(file) = add_taplo_rule(cwd)? {
        written.push(file.into());
    }
    let mut ignore: Vec<&str> = GITIGNORE_LINES.to_vec();
    if matches!(args.example, Some(Example::Local)) {
        ignore.push("/out/");
    }
    if add_gitignore(cwd, &ignore)? {
        written.push(".gitignore".into());
    }
    if created_repo {
        println!("Initialized a git repository in {}.", cwd.display());
    }
    for w in &written {
        println!("  wrote {w}");
    }
    println!("\n{} Next:", ui.green("infra project ready."));
    match args.example {
        Some(_) => println!("  git add -A && git commit -m 'Example project'\n  infra plan\n  infra apply"),
        None => println!("  declare a provider in infra.toml, then `infra ask \"...\"` or write infra/*.toml\n  infra validate && infra plan"),
    }
    Ok(0)
}

fn write_dir(dir: &Dir<'_>, dest: &Path, written: &mut Vec<String>) -> Result<()> {
    for file in dir.files() {
        let path = dest.join(file.path());
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(&path, file.contents())?;
        written.push(file.path().display().to_string());
    }
    for sub in dir.dirs() {
        write_dir(sub, dest, written)?;
    }
    Ok(())
}

/// Add the schema rule to taplo's configuration unless it is there already:
/// .taplo.toml, or taplo.toml when only that one exists (taplo reads the first
/// it finds, so a new .taplo.toml would hide it). Returns the file it changed.
fn add_taplo_rule(dir: &Path) -> Result<Option<&'static str>> {
    let name = match (
        dir.join(".taplo.toml").exists(),
        dir.join("taplo.toml").exists(),
    ) {
        (false, true) => "taplo.toml",
        _ => ".taplo.toml",
    };
    let path = dir.join(name);
    let existing = fs_err::read_to_string(&path).unwrap_or_default();
    if existing.contains(super::schema::SCHEMA_FILE) {
        return Ok(None);
    }
    let mut text = existing;
    if !text.is_empty() {
        // An array-of-tables entry may follow anything at the end of a file.
        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
    }
    text.push_str(&TAPLO_RULE.replace("{schema}", super::schema::SCHEMA_FILE));
    fs_err::write(&path, text)?;
    Ok(Some(name))
}

/// Append the lines .gitignore lacks; returns whether it changed.
fn add_gitignore(dir: &Path, lines: &[&str]) -> Result<bool> {
    let path = dir.join(".gitignore");
    let existing = fs_err::read_to_string(&path).unwrap_or_default();
    let missing: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !existing.lines().any(|e| e.trim() == *l))
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# infra: local-only files (the lock, the crash journal, temp files)\n");
    for l in missing {
        text.push_str(l);
        text.push('\n');
    }
    fs_err::write(&path, text)?;
    Ok(true)
}
