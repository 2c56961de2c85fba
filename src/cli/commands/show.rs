//! `infra show [ADDR]`: the recorded state, human-readable or JSON.

use std::path::Path;

use crate::cli::args::ShowArgs;
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::spec::schema;
use crate::state;

pub fn run(cwd: &Path, args: ShowArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let loaded = state::load(&root)?;
    let resources: Vec<_> = match &args.address {
        Some(a) => {
            let r = loaded.state.resources.get(a).ok_or_else(|| {
                Error::new(format!("{a} is not in the recorded state"))
                    .hint("`infra state list` shows what is recorded")
            })?;
            vec![(a, r)]
        }
        None => loaded.state.resources.iter().collect(),
    };
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> = resources
            .iter()
            .map(|(a, r)| {
                (
                    (*a).clone(),
                    serde_json::to_value(redacted(r)).expect("state serialises"),
                )
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&map).expect("json"));
        return Ok(0);
    }
    if resources.is_empty() {
        println!("The state is empty. Run `infra plan` and `infra apply` to create what the spec declares.");
    }
    for (address, r) in resources {
        let r = redacted(r);
        println!("# {address}:");
        println!(
            "{} \"{}\" \"{}\" {{",
            ui.bold("resource"),
            r.kind,
            address.split_once('.').map(|x| x.1).unwrap_or(address)
        );
        let width = r
            .attrs
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max("provider".len());
        println!("    {:width$} = \"{}\"", "provider", r.provider);
        for (k, v) in &r.attrs {
            println!("    {k:width$} = {}", v);
        }
        println!("}}\n");
    }
    Ok(0)
}

/// Sensitive attributes never leave the process in clear.
fn redacted(r: &state::ResourceState) -> state::ResourceState {
    let mut r = r.clone();
    if let Some(s) = schema::kind(&r.kind) {
        for (k, v) in r.attrs.iter_mut() {
            if s.is_sensitive(k) {
                *v = serde_json::Value::from("(sensitive value)");
            }
        }
    }
    r
}
