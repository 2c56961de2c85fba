//! The capability library: the built-in capabilities and templates compiled into the
//! binary, overridden or extended by name by the project's own `capabilities/*.md`
//! and `templates/*`. Loading never fails as a whole: a bad file becomes an entry
//! in `errors` and every other file still loads.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{include_dir, Dir};

use super::model::{CapError, Capability, Source};
use super::parse::parse;

static BUILTIN_CAPABILITIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../capabilities");
static BUILTIN_TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../templates");

pub const CAPABILITY_DIR: &str = "capabilities";
pub const TEMPLATE_DIR: &str = "templates";

#[derive(Debug, Clone, Default)]
pub struct Library {
    /// Sorted by name; a project capability replaces the built-in one of the same name.
    pub caps: Vec<Capability>,
    /// Template file name (relative to `templates/`, `/`-separated) → text.
    pub templates: BTreeMap<String, String>,
    /// Template file name → where it came from, for messages.
    pub template_paths: BTreeMap<String, String>,
    pub errors: Vec<CapError>,
}

impl Library {
    /// The built-in library, then the project's files (when `project_root` is given).
    pub fn load(project_root: Option<&Path>) -> Library {
        let mut lib = Library::default();
        let mut builtin = Vec::new();
        for f in BUILTIN_CAPABILITIES.files() {
            if f.path().extension().is_some_and(|e| e == "md") {
                let path = format!("builtin:{CAPABILITY_DIR}/{}", f.path().display());
                match f.contents_utf8() {
                    Some(text) => builtin.push((path, text.to_string())),
                    None => lib.errors.push(CapError::new(&path, 0, "not UTF-8 text")),
                }
            }
        }
        lib.add_capabilities(builtin, Source::Builtin);
        let mut templates = Vec::new();
        collect_embedded(&BUILTIN_TEMPLATES, &mut templates);
        for (name, text) in templates {
            lib.template_paths
                .insert(name.clone(), format!("builtin:{TEMPLATE_DIR}/{name}"));
            lib.templates.insert(name, text);
        }
        if let Some(root) = project_root {
            lib.add_project(root);
        }
        lib.check_templates_exist();
        lib
    }

    /// The built-in library alone (no project).
    pub fn builtin() -> Library {
        Library::load(None)
    }

    pub fn get(&self, name: &str) -> Option<&Capability> {
        self.caps.iter().find(|c| c.name == name)
    }

    pub fn template(&self, name: &str) -> Option<&str> {
        self.templates.get(name).map(String::as_str)
    }

    /// Parse capability files of one source, adding or replacing by name.
    pub fn add_capabilities(&mut self, files: Vec<(String, String)>, source: Source) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (path, text) in files {
            let cap = match parse(&path, &text, source) {
                Ok(c) => c,
                Err(errs) => {
                    self.errors.extend(errs);
                    continue;
                }
            };
            if let Some(first) = seen.get(&cap.name) {
                self.errors.push(
                    CapError::new(
                        &path,
                        1,
                        format!("capability `{}` is also defined in {first}", cap.name),
                    )
                    .help("capability names must be unique; rename one of them"),
                );
                continue;
            }
            seen.insert(cap.name.clone(), path.clone());
            match self.caps.iter_mut().find(|c| c.name == cap.name) {
                Some(existing) => *existing = cap,
                None => self.caps.push(cap),
            }
        }
        self.caps.sort_by(|a, b| a.name.cmp(&b.name));
    }

    fn add_project(&mut self, root: &Path) {
        let mut files = Vec::new();
        let dir = root.join(CAPABILITY_DIR);
        if dir.is_dir() {
            match fs_err::read_dir(&dir) {
                Ok(entries) => {
                    let mut paths: Vec<_> =
                        entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    paths.sort();
                    for p in paths {
                        if !p.is_file() || p.extension().is_none_or(|e| e != "md") {
                            continue;
                        }
                        let rel = format!(
                            "{CAPABILITY_DIR}/{}",
                            p.file_name().unwrap_or_default().to_string_lossy()
                        );
                        match fs_err::read_to_string(&p) {
                            Ok(text) => files.push((rel, text)),
                            Err(e) => self.errors.push(CapError::new(
                                &rel,
                                0,
                                format!("cannot read: {e}"),
                            )),
                        }
                    }
                }
                Err(e) => self.errors.push(CapError::new(
                    CAPABILITY_DIR,
                    0,
                    format!("cannot read: {e}"),
                )),
            }
        }
        self.add_capabilities(files, Source::Project);
        let tdir = root.join(TEMPLATE_DIR);
        if tdir.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = collect_disk(&tdir, "", &mut found) {
                self.errors
                    .push(CapError::new(TEMPLATE_DIR, 0, format!("cannot read: {e}")));
            }
            for (name, text) in found {
                let path = format!("{TEMPLATE_DIR}/{name}");
                match text {
                    Some(t) => {
                        self.template_paths.insert(name.clone(), path);
                        self.templates.insert(name, t);
                    }
                    // templates/ also holds file-resource templates, which may be binary;
                    // only a capability template (*.j2) must be text.
                    None if name.ends_with(".j2") => {
                        self.errors.push(CapError::new(&path, 0, "not UTF-8 text"))
                    }
                    None => {}
                }
            }
        }
    }

    /// Every capability's template must exist; the error points at its `template` line.
    fn check_templates_exist(&mut self) {
        for cap in &self.caps {
            if let Some(t) = &cap.template {
                if !self.templates.contains_key(t) {
                    let mut e = CapError::new(
                        &cap.path,
                        cap.template_line,
                        format!("template `{t}` not found"),
                    );
                    let known = self.templates.keys().map(String::as_str);
                    e.help = Some(match infra_core::spec::load::closest(t, known) {
                        Some(c) => {
                            format!("did you mean `{c}`? templates live under {TEMPLATE_DIR}/")
                        }
                        None => format!("write {TEMPLATE_DIR}/{t} in the project"),
                    });
                    self.errors.push(e);
                }
            }
        }
    }
}

fn collect_embedded(dir: &Dir<'_>, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        if let Some(text) = f.contents_utf8() {
            out.push((
                f.path().to_string_lossy().replace('\\', "/"),
                text.to_string(),
            ));
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

/// (name relative to templates/, text or `None` when not UTF-8), recursively.
fn collect_disk(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, Option<String>)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs_err::read_dir(dir)?.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        let path = e.path();
        if path.is_dir() {
            collect_disk(&path, &format!("{name}/"), out)?;
        } else if path.is_file() {
            let bytes = fs_err::read(&path)?;
            out.push((name, String::from_utf8(bytes).ok()));
        }
    }
    Ok(())
}
