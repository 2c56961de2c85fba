//! `infra graph`: the dependency graph as Graphviz DOT (edges point at dependencies).

use std::path::Path;

use crate::cli::output::Ui;
use crate::error::Result;
use crate::providers::registry;
use crate::spec::validate::dependencies;

pub fn run(cwd: &Path, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let spec = crate::project::load_spec(&root, &registry(), ui.color)?;
    let mut out = String::from("digraph infra {\n  rankdir = \"RL\";\n  node [shape = box];\n");
    for r in &spec.resources {
        out.push_str(&format!("  \"{}\";\n", r.address));
    }
    for (from, deps) in dependencies(&spec) {
        for to in deps {
            out.push_str(&format!("  \"{from}\" -> \"{to}\";\n"));
        }
    }
    out.push_str("}\n");
    print!("{out}");
    Ok(0)
}
