//! `[outputs]`: values the user wants shown after apply and by `infra output`,
//! e.g. `admin = "https://${proxy_site.gitea.server_name}/admin"` or
//! `db = { value = "${container.db.env}", sensitive = true }`. Allowed in any spec
//! file; resolved against the recorded state, never against live systems, and
//! never by reading a secret: an `env:`/`file:` reference stays a reference.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::load::closest;
use super::refs::{self, Ref};
use super::validate::is_secret_ref;
use super::{check, schema, Attrs, Diagnostic, Diagnostics, Loc, SourceMap, Spec, Value};
use crate::state::State;

/// The table's name in a spec file.
pub const TABLE: &str = "outputs";

/// One declared output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    /// The text, references unresolved.
    pub value: String,
    /// Marked `sensitive = true`.
    pub marked: bool,
    /// Where the name is written.
    pub name_loc: Loc,
    /// Where the value is written.
    pub loc: Loc,
}

const SHAPE: &str = "write NAME = \"text with ${kind.name.attribute}\" or NAME = { value = \"...\", sensitive = true }";

/// Read one file's `[outputs]` table into `outputs`; every problem is a diagnostic.
pub(super) fn load(
    file: usize,
    value: Spanned<DeValue<'_>>,
    outputs: &mut BTreeMap<String, Output>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    let at = |span: Range<usize>| Loc { file, span };
    let vspan = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        diags.push(
            Diagnostic::error("`outputs` must be a table")
                .at(at(vspan))
                .help("write it as [outputs], one NAME = \"...\" per line"),
        );
        return;
    };
    for (key, value) in table {
        let name = key.get_ref().to_string();
        let name_loc = at(key.span());
        if !check::is_name(&name) {
            diags.push(
                Diagnostic::error(format!("invalid output name `{name}`"))
                    .at(name_loc)
                    .help(
                        "use lowercase letters, digits, '-' and '_' (at most 63), as for resources",
                    ),
            );
            continue;
        }
        let Some((text, marked, loc)) = parse(&name, value, &at, diags) else {
            continue;
        };
        if let Some(first) = outputs.get(&name) {
            diags.push(
                Diagnostic::error(format!("output `{name}` is declared twice"))
                    .at(name_loc)
                    .help(format!(
                        "first declared at {}; rename one of them",
                        sources.describe(&first.name_loc)
                    )),
            );
            continue;
        }
        outputs.insert(
            name.clone(),
            Output {
                name,
                value: text,
                marked,
                name_loc,
                loc,
            },
        );
    }
}

/// `"text"` or `{ value = "text", sensitive = BOOL }`: the text, the mark and where the text is.
fn parse(
    name: &str,
    value: Spanned<DeValue<'_>>,
    at: &dyn Fn(Range<usize>) -> Loc,
    diags: &mut Diagnostics,
) -> Option<(String, bool, Loc)> {
    let vspan = value.span();
    let not_string = |diags: &mut Diagnostics, span: Range<usize>, v: &DeValue<'_>| {
        diags.push(
            Diagnostic::error(format!(
                "output `{name}` must be a string, found {}",
                describe(v)
            ))
            .at(at(span))
            .label("not a string")
            .help(SHAPE),
        );
    };
    let table = match value.into_inner() {
        DeValue::String(s) => return Some((s.into_owned(), false, at(vspan))),
        DeValue::Table(t) => t,
        other => {
            not_string(diags, vspan, &other);
            return None;
        }
    };
    let (mut text, mut marked, mut ok) = (None, false, true);
    for (key, v) in DeTable::into_iter(table) {
        let span = v.span();
        match (key.get_ref().as_ref(), v.into_inner()) {
            ("value", DeValue::String(s)) => text = Some((s.into_owned(), at(span))),
            ("value", other) => {
                not_string(diags, span, &other);
                ok = false;
            }
            ("sensitive", DeValue::Boolean(b)) => marked = b,
            ("sensitive", _) => {
                diags.push(
                    Diagnostic::error(format!(
                        "`sensitive` of output `{name}` must be true or false"
                    ))
                    .at(at(span))
                    .help("e.g. sensitive = true"),
                );
                ok = false;
            }
            (other, _) => {
                let hint = closest(other, ["value", "sensitive"].into_iter())
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(format!("output `{name}` has no setting `{other}`"))
                        .at(at(key.span()))
                        .help(format!("{hint}an output takes value and sensitive")),
                );
                ok = false;
            }
        }
    }
    match text {
        Some((text, loc)) if ok => Some((text, marked, loc)),
        Some(_) => None,
        None => {
            diags.push(
                Diagnostic::error(format!("output `{name}` has no value"))
                    .at(at(vspan))
                    .help(SHAPE),
            );
            None
        }
    }
}

fn describe(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) | DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// Offline checks: every reference names a declared resource and an attribute
/// its kind has (or a declared variable), and no secret is written out.
pub(super) fn validate(spec: &Spec, d: &mut Diagnostics) {
    for o in spec.outputs.values() {
        let found = match refs::find(&o.value) {
            Ok(found) => found,
            Err((msg, _)) => {
                d.push(Diagnostic::error(format!("output `{}`: {msg}", o.name)).at(o.loc.clone()).help(
                    "references look like ${kind.name.attribute} or ${vars.NAME}; write $${ for a literal ${",
                ));
                continue;
            }
        };
        for (reference, _) in found {
            if let Some(problem) = unknown(spec, &reference) {
                d.push(problem.at(o.loc.clone()));
            }
        }
        if let Some((_, kind)) = crate::secrets::find(&o.value) {
            d.push(
                Diagnostic::error(format!("output `{}` holds {kind}, written out in the spec", o.name))
                    .at(o.loc.clone())
                    .help("secrets never go in the spec: keep it in the environment and write \"env:NAME\""),
            );
        }
    }
}

/// Why a reference names nothing, if it does, with a way forward.
fn unknown(spec: &Spec, reference: &Ref) -> Option<Diagnostic> {
    match reference {
        Ref::Var(name) => (!spec.vars.contains_key(name)).then(|| {
            Diagnostic::error(format!("output refers to undefined variable `vars.{name}`"))
                .label("undefined variable")
                .help(format!(
                    "define it under [vars] in infra.toml: {name} = ..."
                ))
        }),
        Ref::Attr { address, .. } if spec.resource(address).is_none() => {
            let all: Vec<String> = spec.index.keys().map(|a| a.to_string()).collect();
            let help = match closest(&address.to_string(), all.iter().map(String::as_str)) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "declare the resource or fix the address".into(),
            };
            Some(
                Diagnostic::error(format!(
                    "output refers to `{address}`, which is not declared"
                ))
                .label("missing resource")
                .help(help),
            )
        }
        Ref::Attr { address, attr } => {
            let kind = schema::kind(&address.kind).expect("declared resources have known kinds");
            kind.attr(attr).is_none().then(|| {
                let hint = closest(attr, kind.attr_names())
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                let names: Vec<_> = kind.attr_names().collect();
                Diagnostic::error(format!("`{address}` has no attribute `{attr}`"))
                    .label("unknown attribute")
                    .help(format!(
                        "{hint}attributes of {}: {}",
                        address.kind,
                        names.join(", ")
                    ))
            })
        }
    }
}

/// An output's value as far as the recorded state knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// `None` while something it refers to is not recorded (known after apply).
    pub value: Option<Value>,
    /// Marked, or it refers to a sensitive attribute or holds an `env:`/`file:` reference.
    pub sensitive: bool,
}

/// Resolve an output with `lookup` (see `recorded`). A string that is exactly one
/// reference takes the referenced value's type, as in resource attributes.
pub fn resolve(o: &Output, lookup: &dyn Fn(&Ref) -> Option<Value>) -> Resolved {
    let found = refs::find(&o.value).unwrap_or_default();
    let by_schema = found.iter().any(|(r, _)| match r {
        Ref::Attr { address, attr } => {
            schema::kind(&address.kind).is_some_and(|k| k.is_sensitive(attr))
        }
        Ref::Var(_) => false,
    });
    // A referenced value that is (or holds) a secret reference makes the output sensitive.
    let holds_ref = Cell::new(holds_secret_ref(&Value::String(o.value.clone())));
    let value = refs::substitute(&Value::String(o.value.clone()), &|r| {
        let v = lookup(r)?;
        if holds_secret_ref(&v) {
            holds_ref.set(true);
        }
        Some(v)
    });
    Resolved {
        value,
        sensitive: o.marked || by_schema || holds_ref.get(),
    }
}

/// Whether any string inside `v` has a word that is an `env:`/`file:` reference.
fn holds_secret_ref(v: &Value) -> bool {
    match v {
        Value::String(s) => s.split_whitespace().any(is_secret_ref),
        Value::Array(items) => items.iter().any(holds_secret_ref),
        Value::Object(m) => m.values().any(holds_secret_ref),
        _ => false,
    }
}

/// References looked up in the recorded state and the spec's `[vars]`. Computed
/// attributes the state lacks (an `fqdn`, an `address`) are derived as the plan does.
pub fn recorded<'a>(state: &'a State, vars: &'a Attrs) -> impl Fn(&Ref) -> Option<Value> + 'a {
    move |r| match r {
        Ref::Var(name) => vars.get(name).cloned(),
        Ref::Attr { address, attr } => {
            let rs = state.resources.get(&address.to_string())?;
            if let Some(v) = rs.attrs.get(attr) {
                return Some(v.clone());
            }
            let mut derived = rs.attrs.clone();
            schema::derive_computed(&rs.kind, &mut derived);
            derived.remove(attr)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Address;
    use serde_json::json;

    fn output(value: &str, marked: bool) -> Output {
        let loc = Loc {
            file: 0,
            span: 0..1,
        };
        Output {
            name: "o".into(),
            value: value.into(),
            marked,
            name_loc: loc.clone(),
            loc,
        }
    }

    fn lookup(r: &Ref) -> Option<Value> {
        match r.to_string().as_str() {
            "proxy_site.gitea.server_name" => Some(json!("git.lab.example.com")),
            "container.db.env" => Some(json!({"PASSWORD": "env:DB_PASSWORD"})),
            "file.note.content" => Some(json!("file:/run/secrets/token")),
            "container.db.cores" => Some(json!(2)),
            "vars.port" => Some(json!("8443")),
            _ => None,
        }
    }

    #[test]
    fn references_are_filled_in_from_what_is_recorded() {
        let r = resolve(
            &output(
                "https://${proxy_site.gitea.server_name}:${vars.port}/admin",
                false,
            ),
            &lookup,
        );
        assert_eq!(
            r.value,
            Some(json!("https://git.lab.example.com:8443/admin"))
        );
        assert!(!r.sensitive);
        // One whole reference keeps its type.
        let r = resolve(&output("${container.db.cores}", false), &lookup);
        assert_eq!(r.value, Some(json!(2)));
        // Escaped text stays text.
        let r = resolve(&output("$${not.a.ref}", false), &lookup);
        assert_eq!(r.value, Some(json!("${not.a.ref}")));
    }

    #[test]
    fn unrecorded_references_leave_the_value_unknown() {
        let r = resolve(&output("http://${container.new.address}/", false), &lookup);
        assert_eq!(r.value, None);
    }

    #[test]
    fn sensitive_when_marked_by_schema_or_holding_a_secret_reference() {
        assert!(resolve(&output("plain", true), &lookup).sensitive);
        assert!(!resolve(&output("plain", false), &lookup).sensitive);
        // `env` is sensitive in the container schema.
        assert!(resolve(&output("${container.db.env}", false), &lookup).sensitive);
        // A referenced value that is a file: reference.
        assert!(resolve(&output("token at ${file.note.content}", false), &lookup).sensitive);
        // A literal env: reference.
        assert!(resolve(&output("env:ADMIN_TOKEN", false), &lookup).sensitive);
        // Sensitive by schema even while unknown.
        assert!(resolve(&output("${container.new.env}", false), &lookup).sensitive);
    }

    #[test]
    fn recorded_values_come_from_the_state_and_derive_what_it_lacks() {
        let mut state = State::new();
        state.resources.insert(
            "dns_record.git".into(),
            crate::state::ResourceState {
                kind: "dns_record".into(),
                provider: "dns".into(),
                id: "1".into(),
                attrs: serde_json::from_value(
                    json!({"zone": "lab.example.com", "name": "git", "type": "A"}),
                )
                .unwrap(),
                depends_on: vec![],
                group: None,
                settings: None,
                unmarked: false,
            },
        );
        let vars: Attrs = serde_json::from_value(json!({"who": "ops"})).unwrap();
        let look = recorded(&state, &vars);
        let fqdn = Ref::Attr {
            address: Address::new("dns_record", "git"),
            attr: "fqdn".into(),
        };
        assert_eq!(look(&fqdn), Some(json!("git.lab.example.com")));
        assert_eq!(look(&Ref::Var("who".into())), Some(json!("ops")));
        let missing = Ref::Attr {
            address: Address::new("dns_record", "other"),
            attr: "fqdn".into(),
        };
        assert_eq!(look(&missing), None);
    }
}
