//! The markdown body of a capability: bullet lists under `## Aliases/Triggers`
//! (also `## Triggers`, `## Aliases`), the form other markdown capability libraries
//! use, and the `## Examples` list, whose lines are tests:
//!
//! ```markdown
//! - "Deploy grafana on port 3000 with 2 cores" → name = "grafana", port = 3000, cores = 2
//! - "Create a new service" → (declined)
//! ```
//!
//! The part after `→` (or `->`) is TOML inline key/values. Fenced code is skipped.

use serde_json::Value;
use toml::de::{DeTable, DeValue};

use super::model::{CapError, Example};

#[derive(Debug, Default)]
pub struct Body {
    pub triggers: Vec<String>,
    /// Expectations are parsed but not yet checked against the params.
    pub examples: Vec<Example>,
    pub errors: Vec<CapError>,
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Other,
    Triggers,
    Examples,
}

/// Parse the body; `first_line` is the file line of its first line.
pub fn parse(text: &str, first_line: usize, path: &str) -> Body {
    let mut out = Body::default();
    let mut section = Section::Other;
    let mut fence: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = first_line + i;
        let line = raw.trim();
        if let Some(f) = fence {
            if line.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if line.starts_with("```") || line.starts_with("~~~") {
            fence = Some(&line[..3]);
            continue;
        }
        if line.starts_with('#') {
            section = heading(line);
            continue;
        }
        let Some(item) = bullet(line) else { continue };
        match section {
            Section::Other => {}
            Section::Triggers => {
                for t in trigger_phrases(item) {
                    if !out.triggers.contains(&t) {
                        out.triggers.push(t);
                    }
                }
            }
            Section::Examples => match example(item) {
                Ok((request, expect, declined)) => out.examples.push(Example {
                    request,
                    expect,
                    declined,
                    line: line_no,
                }),
                Err(msg) => out.errors.push(CapError::new(path, line_no, msg).help(
                    "write examples as: - \"the request\" → param = \"value\", other = 2   (or → (declined))",
                )),
            },
        }
    }
    out
}

fn heading(line: &str) -> Section {
    let title: String = line
        .trim_start_matches('#')
        .trim()
        .trim_end_matches(':')
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match title.as_str() {
        "examples" => Section::Examples,
        "triggers" | "aliases" | "aliases/triggers" | "triggers/aliases" => Section::Triggers,
        _ => Section::Other,
    }
}

/// The text of a `- ` / `* ` / `+ ` list item.
fn bullet(line: &str) -> Option<&str> {
    ["- ", "* ", "+ "]
        .iter()
        .find_map(|m| line.strip_prefix(m))
        .map(str::trim)
}

/// Trigger phrases of one bullet: every quoted or backticked phrase, or the whole item.
fn trigger_phrases(item: &str) -> Vec<String> {
    for q in ['"', '`'] {
        if item.contains(q) {
            return item
                .split(q)
                .skip(1)
                .step_by(2)
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
        }
    }
    let t = item.trim_end_matches(['.', ',', ';']).trim().to_lowercase();
    if t.is_empty() {
        Vec::new()
    } else {
        vec![t]
    }
}

type Parsed = (String, serde_json::Map<String, Value>, bool);

/// `"request" → k = v, …` or `"request" → (declined)`.
fn example(item: &str) -> Result<Parsed, String> {
    let (open, close) = match item.chars().next() {
        Some('"') => ('"', '"'),
        Some('“') => ('“', '”'),
        _ => return Err("an example starts with the request in double quotes".into()),
    };
    let inner = &item[open.len_utf8()..];
    // The request ends at the first closing quote that is followed by an arrow, so the
    // expected values may themselves contain quotes.
    let mut found = None;
    for (i, c) in inner.char_indices() {
        if c == close || c == '"' {
            let rest = inner[i + c.len_utf8()..].trim_start();
            if let Some(r) = rest.strip_prefix('→').or_else(|| rest.strip_prefix("->")) {
                found = Some((&inner[..i], r.trim()));
                break;
            }
        }
    }
    let Some((request, rhs)) = found else {
        return Err(if inner.contains(close) {
            "the request must be followed by → and the expected params".into()
        } else {
            "the request's closing quote is missing".into()
        });
    };
    let request = request.trim();
    if request.is_empty() {
        return Err("the example's request is empty".into());
    }
    if rhs.eq_ignore_ascii_case("(declined)") {
        return Ok((request.to_string(), serde_json::Map::new(), true));
    }
    if rhs.is_empty() {
        return Err("nothing after →: give the expected params, or (declined)".into());
    }
    let doc = format!("x = {{ {rhs} }}");
    let table = DeTable::parse(&doc).map_err(|e| {
        format!(
            "the expected params are not TOML key/values: {}",
            e.message().trim_end()
        )
    })?;
    let expect = match table
        .into_inner()
        .into_iter()
        .next()
        .map(|(_, v)| v.into_inner())
    {
        Some(v @ DeValue::Table(_)) => match infra_core::spec::load::to_json(v) {
            Value::Object(m) => m,
            _ => unreachable!("a table converts to an object"),
        },
        _ => return Err("the expected params are not TOML key/values".into()),
    };
    if expect.is_empty() {
        return Err("nothing after →: give the expected params, or (declined)".into());
    }
    Ok((request.to_string(), expect, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_lines() {
        let (r, e, d) = example(r#""Deploy grafana on port 3000 with 2 cores" → name = "grafana", port = 3000, cores = 2"#).unwrap();
        assert_eq!(r, "Deploy grafana on port 3000 with 2 cores");
        assert_eq!(e["port"], 3000);
        assert!(!d);
        let (_, e, _) = example(r#""Add TXT" -> content = "a \"quoted\" -> thing""#).unwrap();
        assert_eq!(e["content"], "a \"quoted\" -> thing");
        assert!(example(r#""Create a new service" → (declined)"#).unwrap().2);
        assert!(example(r#"Create → name = "x""#)
            .unwrap_err()
            .contains("double quotes"));
        assert!(example(r#""Create" → name = "#)
            .unwrap_err()
            .contains("TOML"));
        assert!(example(r#""Create" name = "x""#).unwrap_err().contains("→"));
        assert!(
            example(r#""Create → name = "x""#).is_err(),
            "the arrow must follow the closing quote"
        );
    }

    #[test]
    fn trigger_bullets() {
        assert_eq!(
            trigger_phrases("\"spin up\", \"stand up\""),
            vec!["spin up", "stand up"]
        );
        assert_eq!(trigger_phrases("`Deploy`"), vec!["deploy"]);
        assert_eq!(trigger_phrases("New Service."), vec!["new service"]);
    }
}
