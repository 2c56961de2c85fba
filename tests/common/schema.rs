//! The JSON Schema of spec files (`infra schema`) must accept every spec infra
//! accepts: after each validate, plan or apply that got past validation,
//! `TestEnv` checks the project's spec files against it, so every spec a test
//! writes is a case of that rule.

use std::path::Path;
use std::sync::OnceLock;

use infra::providers::json_schema::spec_schema;
use infra::spec::load::{file_json, spec_files};

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema = spec_schema(&infra::providers::registry().infos());
        jsonschema::validator_for(&schema).expect("the spec schema compiles")
    })
}

/// The schema's complaints about one spec file's text (empty: accepted).
pub fn problems(text: &str) -> Vec<String> {
    let instance = match file_json(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not TOML: {e}")],
    };
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Did this run of infra accept the spec? Exit codes that mean it got past validation.
fn spec_accepted(args: &[&str], code: i32) -> bool {
    // With -C the project is elsewhere; such runs are not checked.
    if args.contains(&"-C") {
        return false;
    }
    match args.iter().find(|a| !a.starts_with('-')) {
        Some(&"validate") | Some(&"apply") => code == 0,
        Some(&"plan") => code == 0 || code == 2,
        _ => false,
    }
}

/// Panics, naming the file and the schema's complaint, when infra accepted
/// the project's spec and the schema does not.
pub fn check_accepted(project: &Path, args: &[&str], code: i32) {
    if !spec_accepted(args, code) || !project.join("infra.toml").is_file() {
        return;
    }
    for rel in spec_files(project).unwrap_or_default() {
        let Ok(text) = std::fs::read_to_string(project.join(&rel)) else {
            continue;
        };
        let found = problems(&text);
        assert!(
            found.is_empty(),
            "`infra {}` accepted the spec, but the JSON Schema of `infra schema` refuses {}:\n{}\n---\n{text}",
            args.join(" "),
            rel.display(),
            found.join("\n"),
        );
    }
}
