//! Templates (`template = "motd.j2"`): read only from `templates/` inside the
//! project, never through a link (a template linked to a file elsewhere would
//! copy that file into a plan and onto a server), rendered with strict undefined
//! values, and bounded in size. `check` runs them at validate, so a missing
//! template or an undefined value is an error at the `template` line, not an
//! apply failure.

use std::path::Path;

use infra_core::beneath::Beneath;
use infra_core::spec::{self, refs, Diagnostic, Diagnostics, Spec};
use serde_json::Value;

pub const TEMPLATE_DIR: &str = "templates";
/// Largest template file, and largest rendered text.
pub const MAX_TEMPLATE_BYTES: u64 = 4 * 1024 * 1024;
pub const MAX_RENDERED_BYTES: usize = 16 * 1024 * 1024;

/// The template's text; errors say which file and why.
pub fn read(root: &Path, name: &str) -> Result<String, String> {
    let rel = Path::new(TEMPLATE_DIR).join(name);
    let dir = Beneath::open(root).map_err(|e| e.to_string())?;
    let entry = dir
        .read(&rel, MAX_TEMPLATE_BYTES)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                format!(
                    "{}: {}; templates are read only from templates/ inside the project",
                    rel.display(),
                    reason(&e)
                )
            }
            _ => format!("{}: {}", rel.display(), reason(&e)),
        })?
        .ok_or_else(|| format!("{} does not exist", rel.display()))?;
    String::from_utf8(entry.data).map_err(|_| format!("{} is not UTF-8 text", rel.display()))
}

/// Render `name` for resource `r`.
pub fn render(root: &Path, spec: &Spec, r: &spec::Resource, name: &str) -> Result<String, String> {
    let text = read(root, name)?;
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // Bounds loops and recursion inside the template (a `{% for %}` over range(10**9)).
    env.set_fuel(Some(10_000_000));
    env.add_template_owned(name.to_string(), text)
        .map_err(|e| format!("templates/{name}: {e}"))?;
    let vars = minijinja::Value::from(minijinja::value::Serde(&spec.vars));
    let ctx = minijinja::context! { vars => vars, name => &r.address.name, project => &spec.project.name };
    let out = env
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| format!("templates/{name}: {e}"))?;
    if out.len() > MAX_RENDERED_BYTES {
        return Err(format!(
            "templates/{name} renders to {} MiB; the most a value may be is {} MiB",
            out.len() >> 20,
            MAX_RENDERED_BYTES >> 20
        ));
    }
    Ok(out)
}

/// Render every literal `template` attribute, as apply will; problems become
/// diagnostics at the attribute.
pub fn check(root: &Path, spec: &Spec, d: &mut Diagnostics) {
    for r in &spec.resources {
        let Some(Value::String(name)) = r.attrs.get("template") else {
            continue;
        };
        if refs::has_refs(&Value::String(name.clone())) {
            continue;
        }
        if let Err(e) = render(root, spec, r, name) {
            d.push(
                Diagnostic::error(format!("`{}`: {e}", r.address))
                    .at_opt(r.attr_locs.get("template").cloned())
                    .help("templates live under templates/ in the project and see vars, name and project"),
            );
        }
    }
}

/// The io error without the absolute path `beneath` puts in front.
fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.rsplit_once(": ")
        .map_or(s.clone(), |(_, w)| w.to_string())
}
