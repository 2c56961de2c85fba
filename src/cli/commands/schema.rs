//! `infra schema [--output FILE | --write]`: the JSON Schema of spec files,
//! generated from the kind table and this build's providers.

use std::path::Path;

use crate::cli::args::SchemaArgs;
use crate::error::Result;
use crate::providers::json_schema::spec_schema;
use crate::providers::registry;

/// Where a project keeps its copy, for editors: `infra init`'s .taplo.toml names it.
pub const SCHEMA_FILE: &str = ".infra/schema.json";

/// The schema as written out: pretty, one trailing newline.
pub fn text() -> String {
    let schema = spec_schema(&registry().infos());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
    text.push('\n');
    text
}

/// Write the project's copy (`SCHEMA_FILE`) under `root`.
pub fn write_project_copy(root: &Path) -> Result<()> {
    let path = root.join(SCHEMA_FILE);
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    fs_err::write(path, text())?;
    Ok(())
}

pub fn run(cwd: &Path, args: SchemaArgs) -> Result<i32> {
    if args.write {
        write_project_copy(&super::root(cwd)?)?;
        println!("  wrote {SCHEMA_FILE}");
    } else if let Some(file) = args.output {
        fs_err::write(cwd.join(&file), text())?;
        println!("  wrote {}", file.display());
    } else {
        print!("{}", text());
    }
    Ok(0)
}
