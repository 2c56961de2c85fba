//! The capability library: the built-in capabilities and templates compiled into the
//! binary, overridden or extended by name by the project's own `capabilities/*.md`
//! and `templates/*`. Loading never fails as a whole: a bad file becomes an entry
//! in `errors` and every other file still loads.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{include_dir, Dir};
use infra_core::beneath::{Beneath, MAX_FILE_BYTES};

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

    /// Capability files and templates of the project: regular files inside it only,
    /// never read through a link (a link could pull any file of the machine into a
    /// spec, a plan or a prompt).
    fn add_project(&mut self, root: &Path) {
        let dir = match Beneath::open(root) {
            Ok(d) => d,
            Err(e) => {
                self.errors.push(CapError::new(
                    CAPABILITY_DIR,
                    0,
                    format!("cannot read: {e}"),
                ));
                return;
            }
        };
        let mut files = Vec::new();
        match dir.list(Path::new(CAPABILITY_DIR), false, MAX_FILE_BYTES) {
            Ok(found) => {
                for e in found.into_iter().filter(|e| e.name.ends_with(".md")) {
                    let rel = format!("{CAPABILITY_DIR}/{}", e.name);
                    match String::from_utf8(e.data) {
                        Ok(text) => files.push((rel, text)),
                        Err(_) => self.errors.push(CapError::new(&rel, 0, "not UTF-8 text")),
                    }
                }
                // What the listing skipped: links and other non-files named *.md.
                let names = dir
                    .list_names(Path::new(CAPABILITY_DIR))
                    .unwrap_or_default();
                for name in names
                    .iter()
                    .filter(|n| n.ends_with(".md") && !n.contains('/'))
                {
                    let rel = format!("{CAPABILITY_DIR}/{name}");
                    if !files.iter().any(|(r, _)| *r == rel)
                        && !self.errors.iter().any(|e| e.path == rel)
                    {
                        self.errors.push(CapError::new(
                            &rel,
                            0,
                            "is not a regular file (a symbolic link?); capability files are read only from inside the project",
                        ));
                    }
                }
            }
            Err(e) => self.errors.push(CapError::new(
                CAPABILITY_DIR,
                0,
                format!("cannot read: {e}"),
            )),
        }
        self.add_capabilities(files, Source::Project);
        match dir.list(Path::new(TEMPLATE_DIR), true, MAX_FILE_BYTES) {
            Ok(found) => {
                for e in found {
                    let path = format!("{TEMPLATE_DIR}/{}", e.name);
                    match String::from_utf8(e.data) {
                        Ok(t) => {
                            self.template_paths.insert(e.name.clone(), path);
                            self.templates.insert(e.name, t);
                        }
                        // templates/ also holds file-resource templates, which may be binary;
                        // only a capability template (*.j2) must be text.
                        Err(_) if e.name.ends_with(".j2") => {
                            self.errors.push(CapError::new(&path, 0, "not UTF-8 text"))
                        }
                        Err(_) => {}
                    }
                }
            }
            Err(e) => self
                .errors
                .push(CapError::new(TEMPLATE_DIR, 0, format!("cannot read: {e}"))),
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
