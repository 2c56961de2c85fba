//! `infra adopt`: describe what the providers serve that the state does not
//! track as spec files, grouped as a person would write them, and record it in
//! the state as adopted. Nothing live changes here: the objects' ownership
//! markers are written by the next apply (`Reason::Mark`), and until then an
//! adopted object is never deleted.

mod describe;
mod groups;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use infra_core::error::{Error, Result};
use infra_core::spec::schema::kinds;
use infra_core::spec::Value;
use infra_core::state::{ResourceState, State};

pub use groups::{Described, Placed};

use crate::project::{check_spec, Project};

/// Which objects to look at.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Provider instances by name (all when empty).
    pub providers: Vec<String>,
    /// Only DNS records of this zone.
    pub zone: Option<String>,
    /// Only this resource kind.
    pub only: Option<String>,
    /// Only objects whose name (host name, record name, URL, path) matches this
    /// glob (`*` and `?`).
    pub pattern: Option<String>,
}

/// An object left out, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub what: String,
    pub reason: String,
}

/// What an adoption would write.
#[derive(Debug)]
pub struct Proposal {
    pub placed: Vec<Placed>,
    /// New spec files by project-relative path.
    pub files: BTreeMap<String, String>,
    pub skipped: Vec<Skipped>,
    /// The state with every adopted object recorded, unmarked.
    pub state: State,
}

/// The name an object goes by: a record's full name, a guest's host name, a
/// site's server name, a monitor's URL, a file's path (what `--match` matches,
/// and what a record is found by when grouping).
fn label(kind: &str, a: &infra_core::spec::Attrs) -> String {
    let t = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match kind {
        kinds::DNS_RECORD => match t("name").as_str() {
            "@" => t("zone"),
            n => format!("{n}.{}", t("zone")),
        },
        kinds::CONTAINER | kinds::VM => t("hostname"),
        kinds::PROXY_SITE => t("server_name"),
        kinds::MONITOR => t("url"),
        _ => t("path"),
    }
}

/// `*` any run of characters, `?` one; case-insensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (
        pattern.to_lowercase().chars().collect(),
        text.to_lowercase().chars().collect(),
    );
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Read every provider the filter names and describe what no state records and
/// no marker claims. One `list` per provider and kind.
pub async fn discover(
    project: &Project,
    filter: &Filter,
) -> Result<(Vec<Described>, Vec<Skipped>)> {
    for name in &filter.providers {
        if !project.spec.providers.contains_key(name) {
            let known: Vec<&str> = project.spec.providers.keys().map(String::as_str).collect();
            return Err(Error::new(format!("no provider `{name}` in infra.toml"))
                .hint(format!("the project's providers: {}", known.join(", "))));
        }
    }
    let infos = project.registry.infos();
    let recorded: BTreeSet<(&str, &str)> = project
        .state
        .state
        .resources
        .values()
        .map(|r| (r.provider.as_str(), r.id.as_str()))
        .collect();
    let (mut found, mut skipped) = (Vec::new(), Vec::new());
    for (pname, config) in &project.spec.providers {
        if !filter.providers.is_empty() && !filter.providers.contains(pname) {
            continue;
        }
        let Some(info) = infos.iter().find(|i| i.kind == config.kind) else {
            continue;
        };
        let provider = project.provider(pname)?;
        for support in info.kinds {
            let kind = support.kind;
            if filter.only.as_deref().is_some_and(|o| o != kind) {
                continue;
            }
            let objects = provider.list(kind).await.map_err(|e| {
                Error::new(format!("reading {kind} objects of provider `{pname}`: {e}"))
            })?;
            for o in objects {
                if o.owner.is_some() || recorded.contains(&(pname.as_str(), o.id.as_str())) {
                    continue;
                }
                let zone = o.attrs.get("zone").and_then(Value::as_str);
                if filter.zone.as_deref().is_some_and(|z| {
                    zone.is_none_or(|zone| zone.trim_end_matches('.') != z.trim_end_matches('.'))
                }) {
                    continue;
                }
                let label = label(kind, &o.attrs);
                if filter.pattern.as_deref().is_some_and(|p| !glob(p, &label)) {
                    continue;
                }
                // What the listing shows in part, the provider reads in full.
                let o = match provider.describe(kind, &o.id).await {
                    Ok(Some(full)) if full.owner.is_none() => full,
                    Ok(_) => o,
                    Err(e) => {
                        return Err(Error::new(format!(
                            "reading {kind} {} of provider `{pname}`: {e}",
                            o.id
                        )))
                    }
                };
                let described = match (&o.claimed_by, support.unadoptable) {
                    (Some(marker), _) => Err(format!(
                        "it carries another infra project's marker ({marker}); that project manages it"
                    )),
                    (None, Some(why)) => Err(why.to_string()),
                    (None, None) => describe::attrs(kind, &o.attrs),
                };
                match described {
                    Ok(attrs) => found.push(Described {
                        provider: pname.clone(),
                        kind: kind.to_string(),
                        id: o.id,
                        observed: o.attrs,
                        attrs,
                    }),
                    Err(reason) => skipped.push(Skipped {
                        what: format!("{kind} {label} ({pname}, id {})", o.id),
                        reason,
                    }),
                }
            }
        }
    }
    Ok((found, skipped))
}

/// Name, group and write the objects; leave out (with the validator's words)
/// any the spec refuses, and record the rest in a copy of the state.
pub fn propose(
    project: &Project,
    objects: Vec<Described>,
    mut skipped: Vec<Skipped>,
    today: &str,
) -> Result<Proposal> {
    let mut names = groups::Names::new(
        project
            .spec
            .resources
            .iter()
            .map(|r| (r.address.kind.clone(), r.address.name.clone())),
    );
    let taken: BTreeSet<String> = project
        .spec
        .sources
        .files()
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    let serving = |kind: &str| {
        project
            .spec
            .providers
            .values()
            .filter(|p| project.registry.serves(&p.kind, kind))
            .count()
    };
    let named = |kind: &str| serving(kind) > 1;
    let mut placed = groups::place(objects, &mut names, &taken);
    let mut files = write::files(&placed, &named, today);
    // Left out objects can break references of others: check again, at most
    // a few rounds (each round only removes).
    for _ in 0..4 {
        let refused = refused(&project.root, project, &files)?;
        if refused.is_empty() {
            break;
        }
        placed.retain(|p| {
            let address = format!("{}.{}", p.object.kind, p.name);
            match refused.get(&address) {
                Some(why) => {
                    skipped.push(Skipped {
                        what: format!(
                            "{} {} ({}, id {})",
                            p.object.kind,
                            label(&p.object.kind, &p.object.attrs),
                            p.object.provider,
                            p.object.id
                        ),
                        reason: why.clone(),
                    });
                    false
                }
                None => true,
            }
        });
        files = write::files(&placed, &named, today);
    }
    let mut state = project.state.state.clone();
    for p in &placed {
        state.resources.insert(
            format!("{}.{}", p.object.kind, p.name),
            ResourceState {
                kind: p.object.kind.clone(),
                provider: p.object.provider.clone(),
                id: p.object.id.clone(),
                attrs: p.object.observed.clone(),
                depends_on: p.depends_on.clone(),
                group: p.group.clone(),
                settings: None,
                unmarked: true,
            },
        );
    }
    if !placed.is_empty() {
        state.serial = project.state.effective_serial() + 1;
    }
    Ok(Proposal {
        placed,
        files,
        skipped,
        state,
    })
}

/// Validate the project with `files` added, in a scratch copy: the addresses
/// of new resources the spec refuses, with the first message for each. Any
/// other problem is an error (the project's own spec must be valid first).
fn refused(
    root: &Path,
    project: &Project,
    files: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let scratch = tempfile::tempdir()?;
    for f in project.spec.sources.files() {
        let to = scratch.path().join(&f.path);
        if let Some(dir) = to.parent() {
            fs_err::create_dir_all(dir)?;
        }
        fs_err::write(&to, &f.text)?;
    }
    let templates = root.join("templates");
    if templates.is_dir() {
        copy_dir(&templates, &scratch.path().join("templates"))?;
    }
    for (path, text) in files {
        let to = scratch.path().join(path);
        if let Some(dir) = to.parent() {
            fs_err::create_dir_all(dir)?;
        }
        fs_err::write(&to, text)?;
    }
    let (spec, diags) = check_spec(scratch.path(), &project.registry, &|_| true)?;
    let mut out = BTreeMap::new();
    let mut other = Vec::new();
    for d in &diags.items {
        let owner = d.loc.as_ref().and_then(|loc| {
            let path = spec
                .sources
                .file(loc.file)
                .path
                .to_string_lossy()
                .into_owned();
            files.contains_key(&path).then_some(())?;
            spec.resources
                .iter()
                .filter(|r| r.loc.file == loc.file && r.loc.span.start <= loc.span.start)
                .max_by_key(|r| r.loc.span.start)
        });
        match owner {
            Some(r) => {
                out.entry(r.address.to_string())
                    .or_insert_with(|| d.message.clone());
            }
            None => other.push(d.message.clone()),
        }
    }
    if !other.is_empty() && out.is_empty() {
        return Err(
            Error::new("the adopted objects do not fit the project's spec")
                .detail(other.join("\n")),
        );
    }
    Ok(out)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs_err::create_dir_all(to)?;
    for entry in fs_err::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if entry.file_type()?.is_file() {
            fs_err::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("*.example.com", "www.example.com"));
        assert!(glob("w?w*", "WWW.example.com"));
        assert!(!glob("*.example.org", "www.example.com"));
        assert!(glob("*", ""));
    }
}
