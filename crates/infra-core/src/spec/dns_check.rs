//! The checks of a `dns_record` that its type decides: its data (`content`, or
//! the parts given as attributes) and its priority, each at its own line.

use super::refs;
use super::{Diagnostic, Diagnostics, Resource, Value};
use crate::dns;

pub(super) fn check(r: &Resource, d: &mut Diagnostics) {
    let Some(rtype) = r.attrs.get("type").and_then(Value::as_str) else {
        return;
    };
    let Some(t) = dns::record_type(rtype) else {
        return; // the type itself is reported by the schema check
    };
    let loc = |name: &str| {
        r.attr_locs
            .get(name)
            .cloned()
            .or_else(|| Some(r.loc.clone()))
    };
    let parts = dns::parts_given(&r.attrs);
    let content = r.attrs.get("content");
    match (content, parts.first()) {
        (Some(_), Some(first)) => d.push(
            Diagnostic::error(format!(
                "`{}` gives both `content` and `{first}`; give one form",
                r.address
            ))
            .at_opt(loc(first))
            .help("either content = \"…\" or the parts as attributes, not both"),
        ),
        (None, None) => d.push(
            Diagnostic::error(format!("`{}` needs `content`", r.address))
                .at(r.loc.clone())
                .help(format!(
                    "for a {rtype} record, like content = \"{}\"",
                    t.example
                )),
        ),
        (Some(v @ Value::String(c)), None) if !refs::has_refs(v) => {
            if let Err(why) = dns::check_content(rtype, c) {
                d.push(
                    Diagnostic::error(format!("`content`: {why}"))
                        .at_opt(loc("content"))
                        .label("invalid record data"),
                );
            }
        }
        (None, Some(first)) if !parts.iter().any(|p| refs::has_refs(&r.attrs[*p])) => {
            match dns::compose(rtype, &r.attrs) {
                Some(Err(why)) => d.push(
                    Diagnostic::error(why)
                        .at_opt(loc(first))
                        .label("record part"),
                ),
                Some(Ok(c)) => {
                    if let Err(why) = dns::check_content(rtype, &c) {
                        d.push(
                            Diagnostic::error(why)
                                .at_opt(loc(first))
                                .label("record part"),
                        );
                    }
                }
                None => {}
            }
        }
        _ => {}
    }
    match (t.priority, r.attrs.contains_key("priority")) {
        (true, false) => d.push(
            Diagnostic::error(format!("`{}` needs `priority`", r.address))
                .at(r.loc.clone())
                .help(format!(
                    "{rtype} records have a priority, like priority = 10"
                )),
        ),
        (false, true) => d.push(
            Diagnostic::error(format!(
                "`priority` applies to MX, SRV, URI, SVCB and HTTPS records, not {rtype}"
            ))
            .at_opt(loc("priority")),
        ),
        _ => {}
    }
}
