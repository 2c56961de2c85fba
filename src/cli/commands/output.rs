//! `infra output [GROUP|ADDRESS]`: access cards and `[outputs]` from the recorded
//! state. Reads the spec and the state file only; no provider is built.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::args::{OutputArgs, TextFormat};
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::providers::registry;
use crate::report::card::{self, Card, Places};
use crate::report::outputs::{self, OutputReport, FORMAT_VERSION};
use crate::report::{self, Output};
use crate::state::{self, State};

pub fn run(cwd: &Path, args: OutputArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let spec = crate::project::load_spec(&root, &registry(), ui.color)?;
    let state = state::load(&root)?.state;
    let places = Places::of(&spec);
    let report = match &args.target {
        Some(target) => OutputReport {
            format_version: FORMAT_VERSION,
            groups: vec![one(&state, target, &places)?],
            outputs: BTreeMap::new(),
        },
        None => {
            // Revealed only to a person: a pipe or file may end up in a CI log.
            let reveal = args.show_sensitive && ui.stdout_tty;
            let shown = outputs::outputs(&spec, &state, reveal);
            if args.show_sensitive && !reveal && shown.values().any(|s| s.sensitive) {
                eprintln!("Note: sensitive values stay hidden: --show-sensitive reveals them only when standard output is a terminal.");
            }
            OutputReport {
                format_version: FORMAT_VERSION,
                groups: outputs::all_cards(&state, &places),
                outputs: shown,
            }
        }
    };
    let format = match args.format {
        TextFormat::Human => Output::Human,
        TextFormat::Json => Output::Json,
    };
    report::emit(&report, format, ui);
    Ok(0)
}

/// The card of a group, or of one recorded resource on its own.
fn one(state: &State, target: &str, places: &Places) -> Result<Card> {
    if let Some(r) = state.resources.get_key_value(target) {
        return Ok(Card::build(target, [r], places));
    }
    if let Some(c) = card::for_group(state, target, places) {
        return Ok(c);
    }
    let groups: Vec<&str> = card::groups(state).into_iter().collect();
    let hint = if groups.is_empty() {
        "no recorded resource has a group yet; `infra state list` shows what is recorded".into()
    } else {
        format!(
            "groups: {}; `infra state list` shows the recorded addresses",
            groups.join(", ")
        )
    };
    Err(Error::new(format!(
        "`{target}` is neither a group nor a recorded resource"
    ))
    .hint(hint))
}
