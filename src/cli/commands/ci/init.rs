//! `infra ci init github|gitlab`: write the pipeline file, naming the secrets
//! the spec refers to (`env:NAME`) so they come from the platform's store.

use std::collections::BTreeSet;
use std::path::Path;

use super::Platform;
use crate::error::{Error, Result};

const GITHUB: &str = include_str!("github.yml");
const GITLAB: &str = include_str!("gitlab.yml");

pub fn run(
    cwd: &Path,
    platform: Platform,
    install: &str,
    branch: Option<String>,
    force: bool,
) -> Result<i32> {
    let root = super::super::root(cwd)?;
    let (spec, _) = crate::spec::load::load(&root)?;
    let repo = crate::git::Repo::open(&root)?;
    let branch = match branch {
        Some(b) => b,
        None => repo.current_branch()?,
    };
    if install.trim().is_empty() || install.contains('\n') {
        return Err(Error::new("--install must be one command line"));
    }
    let secrets = spec.env_refs();
    let (path, text) = match platform {
        Platform::Github => (
            ".github/workflows/infra.yml",
            github(install, &branch, &secrets),
        ),
        Platform::Gitlab => (".gitlab-ci.yml", gitlab(install, &branch, &secrets)),
    };
    // Pipelines live at the repository's top, which may sit above the project.
    let top = repo.workdir();
    let target = top.join(path);
    if target.exists() && !force {
        return Err(Error::new(format!("{} already exists", target.display()))
            .hint("pass --force to write it afresh"));
    }
    if let Some(dir) = target.parent() {
        fs_err::create_dir_all(dir)?;
    }
    crate::util::write_atomic(&target, text.as_bytes())
        .map_err(|e| Error::new(format!("cannot write {}: {e}", target.display())))?;
    println!("Wrote {path}.");
    if !secrets.is_empty() {
        let names: Vec<&str> = secrets.iter().map(String::as_str).collect();
        println!(
            "Add these secrets to the {} settings: {}",
            match platform {
                Platform::Github => "repository's Actions",
                Platform::Gitlab => "project's CI/CD variables (masked)",
            },
            names.join(", ")
        );
    }
    if platform == Platform::Gitlab {
        println!("Add INFRA_GITLAB_TOKEN too: a project access token (scope api) for the plan comment and the state push.");
    }
    println!("Commit it, and set `remote = \"origin\"` under [state] in infra.toml if the team shares one state.");
    Ok(0)
}

fn github(install: &str, branch: &str, secrets: &BTreeSet<String>) -> String {
    let env: String = secrets
        .iter()
        .map(|n| format!("  {n}: ${{{{ secrets.{n} }}}}\n"))
        .collect();
    GITHUB
        .replace("@INSTALL@", install)
        .replace("@BRANCH@", branch)
        .replace("@SECRETS@\n", &env)
}

fn gitlab(install: &str, branch: &str, secrets: &BTreeSet<String>) -> String {
    let list = if secrets.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = secrets.iter().map(String::as_str).collect();
        format!(" ({})", names.join(", "))
    };
    GITLAB
        .replace("@INSTALL@", install)
        .replace("@BRANCH@", branch)
        .replace("@SECRET_LIST@", &list)
}
