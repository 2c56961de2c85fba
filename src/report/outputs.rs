//! `infra output`'s report, and the part of apply's that shows the same: groups'
//! access cards and the spec's `[outputs]`, from the recorded state only. A
//! sensitive output's value is replaced unless the caller may reveal it.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use super::card::{self, Card, Places};
use super::Report;
use crate::cli::output::Ui;
use crate::spec::outputs::{recorded, resolve};
use crate::spec::Spec;
use crate::state::State;

/// JSON format version, as the plan's: minor bumps only add fields.
pub const FORMAT_VERSION: &str = "1.0";

/// What a sensitive output shows instead of its value.
pub const HIDDEN: &str = "(sensitive value)";

#[derive(Debug, Serialize)]
pub struct OutputReport {
    pub format_version: &'static str,
    pub groups: Vec<Card>,
    pub outputs: BTreeMap<String, Shown>,
}

/// One output as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    /// `null` while something it refers to is not recorded yet (known after apply);
    /// `"(sensitive value)"` for a sensitive one not revealed.
    pub value: Option<Value>,
    pub sensitive: bool,
}

/// The spec's outputs resolved against `state`; sensitive ones hidden unless `reveal`.
pub fn outputs(spec: &Spec, state: &State, reveal: bool) -> BTreeMap<String, Shown> {
    let lookup = recorded(state, &spec.vars);
    spec.outputs
        .values()
        .map(|o| {
            let r = resolve(o, &lookup);
            let value = match r.value {
                Some(_) if r.sensitive && !reveal => Some(Value::from(HIDDEN)),
                v => v,
            };
            (
                o.name.clone(),
                Shown {
                    value,
                    sensitive: r.sensitive,
                },
            )
        })
        .collect()
}

/// The cards of every group the state records.
pub fn all_cards(state: &State, places: &Places) -> Vec<Card> {
    card::groups(state)
        .into_iter()
        .filter_map(|g| card::for_group(state, g, places))
        .collect()
}

impl Report for OutputReport {
    fn human(&self, ui: &Ui) -> String {
        if self.groups.is_empty() && self.outputs.is_empty() {
            return "Nothing to show: no resource in the state has a group, and the spec declares no [outputs].\n".into();
        }
        human(&self.groups, &self.outputs, ui)
    }
}

/// Cards, then `Outputs:` with one `name = value` line each.
pub fn human(groups: &[Card], outputs: &BTreeMap<String, Shown>, ui: &Ui) -> String {
    let mut out = String::new();
    for (i, c) in groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&c.human(ui));
    }
    if outputs.is_empty() {
        return out;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str("Outputs:\n\n");
    for (name, shown) in outputs {
        let value = match &shown.value {
            None => "(known after apply)".to_string(),
            Some(Value::String(s)) if shown.sensitive && s == HIDDEN => s.clone(),
            // As JSON: quoted and escaped, so no control character reaches the terminal.
            Some(v) => card::shown(&v.to_string()),
        };
        let _ = writeln!(out, "{name} = {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load::load_texts;
    use crate::state::ResourceState;
    use serde_json::json;
    use std::path::{Path, PathBuf};

    fn spec(outputs: &str) -> Spec {
        let texts = vec![
            (
                PathBuf::from("infra.toml"),
                "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n"
                    .to_string(),
            ),
            (
                PathBuf::from("infra/main.toml"),
                format!(
                    "[file.a]\npath = \"a.txt\"\ncontent = \"env:NOTE\"\n\n[outputs]\n{outputs}"
                ),
            ),
        ];
        let (spec, diags) = load_texts(Path::new("/p"), texts);
        assert!(diags.is_empty(), "{diags:?}");
        spec
    }

    fn state() -> State {
        let mut s = State::new();
        s.resources.insert(
            "file.a".into(),
            ResourceState {
                kind: "file".into(),
                provider: "local".into(),
                id: "a.txt".into(),
                attrs: serde_json::from_value(json!({"path": "a.txt", "content": "env:NOTE"}))
                    .unwrap(),
                depends_on: vec![],
                group: None,
                settings: None,
                unmarked: false,
            },
        );
        s
    }

    #[test]
    fn sensitive_outputs_are_hidden_unless_revealed() {
        let spec = spec(
            "path = \"out/${file.a.path}\"\nmarked = { value = \"${file.a.path}\", sensitive = true }\nnote = \"${file.a.content}\"\n",
        );
        let shown = outputs(&spec, &state(), false);
        assert_eq!(shown["path"].value, Some(json!("out/a.txt")));
        assert!(!shown["path"].sensitive);
        assert_eq!(shown["marked"].value, Some(json!(HIDDEN)));
        // Holds an env: reference, so sensitive without being marked.
        assert_eq!(shown["note"].value, Some(json!(HIDDEN)));
        assert!(shown["note"].sensitive);

        let revealed = outputs(&spec, &state(), true);
        assert_eq!(revealed["marked"].value, Some(json!("a.txt")));
        // Revealed is the reference as recorded: infra never reads the variable.
        assert_eq!(revealed["note"].value, Some(json!("env:NOTE")));
    }

    #[test]
    fn outputs_of_what_is_not_applied_yet_are_unknown() {
        let spec = spec("path = \"${file.a.path}\"\n");
        let shown = outputs(&spec, &State::new(), false);
        assert_eq!(shown["path"].value, None);
        let ui = Ui {
            color: false,
            stdin_tty: false,
            stdout_tty: false,
            stderr_tty: false,
        };
        assert_eq!(
            human(&[], &shown, &ui),
            "Outputs:\n\npath = (known after apply)\n"
        );
    }
}
