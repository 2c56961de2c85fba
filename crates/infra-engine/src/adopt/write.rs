//! The spec files an adoption writes: one `[KIND.NAME]` table per object, in
//! the order `groups::place` sorted them, attributes in schema order, values
//! quoted by toml_edit, each file opened by a comment saying where it came from.

use std::collections::BTreeMap;

use serde_json::Value;

use super::groups::Placed;
use infra_core::spec::schema;

/// The text of each file, by project-relative path. `provider_named(kind)`:
/// whether a resource of that kind must name its provider (the project has
/// several that serve it).
pub fn files(
    placed: &[Placed],
    provider_named: &dyn Fn(&str) -> bool,
    today: &str,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for p in placed {
        let text = out.entry(p.file.clone()).or_insert_with(|| {
            let what = match &p.group {
                Some(g) => format!("the `{g}` group"),
                None => format!(
                    "{} objects of provider `{}`",
                    p.object.kind, p.object.provider
                ),
            };
            format!(
                "# Adopted by `infra adopt` on {today}: {what}, described as they ran.\n\
                 # Edit freely; `infra plan` shows what an edit would change.\n"
            )
        });
        text.push_str(&format!("\n[{}.{}]\n", p.object.kind, p.name));
        if provider_named(&p.object.kind) {
            text.push_str(&format!("provider = {}\n", quote(&p.object.provider)));
        }
        if let Some(g) = &p.group {
            text.push_str(&format!("group = {}\n", quote(g)));
        }
        let order: Vec<&str> = schema::kind(&p.object.kind)
            .map(|s| s.attr_names().collect())
            .unwrap_or_default();
        let mut attrs: Vec<(&String, &Value)> = p.object.attrs.iter().collect();
        attrs.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
        for (k, v) in attrs {
            text.push_str(&format!("{k} = {}\n", toml_value(v)));
        }
    }
    out
}

fn quote(s: &str) -> String {
    toml_edit::Value::from(s).to_string()
}

/// A JSON value as a TOML value (inline tables for maps).
fn toml_value(v: &Value) -> String {
    to_toml(v).to_string().trim().to_string()
}

fn to_toml(v: &Value) -> toml_edit::Value {
    match v {
        Value::String(s) => toml_edit::Value::from(s.as_str()),
        Value::Bool(b) => toml_edit::Value::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml_edit::Value::from(i),
            None => toml_edit::Value::from(n.as_f64().unwrap_or_default()),
        },
        Value::Array(items) => {
            let mut a = toml_edit::Array::new();
            for i in items {
                a.push(to_toml(i));
            }
            toml_edit::Value::Array(a)
        }
        Value::Object(m) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in m {
                t.insert(k, to_toml(v));
            }
            toml_edit::Value::InlineTable(t)
        }
        Value::Null => toml_edit::Value::from(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::groups::Described;
    use serde_json::json;

    #[test]
    fn tables_in_schema_order_with_toml_quoting() {
        let attrs: infra_core::spec::Attrs = serde_json::from_value(json!({
            "content": "say \"hi\"\\n", "type": "TXT", "name": "@", "zone": "example.com", "ttl": 60
        }))
        .unwrap();
        let p = Placed {
            object: Described {
                provider: "dns".into(),
                kind: "dns_record".into(),
                id: "x".into(),
                observed: attrs.clone(),
                attrs,
            },
            name: "apex-txt".into(),
            group: None,
            file: "infra/dns-example-com.toml".into(),
            depends_on: vec![],
        };
        let files = files(&[p], &|_| true, "2026-12-07");
        let text = &files["infra/dns-example-com.toml"];
        let table = text.split_once("\n\n").unwrap().1;
        assert_eq!(
            table,
            "[dns_record.apex-txt]\nprovider = \"dns\"\nzone = \"example.com\"\nname = \"@\"\ntype = \"TXT\"\ncontent = 'say \"hi\"\\n'\nttl = 60\n"
        );
        let parsed: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(
            parsed["dns_record"]["apex-txt"]["content"].as_str(),
            Some("say \"hi\"\\n")
        );
    }
}
