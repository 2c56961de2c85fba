//! Tests of the capability module: parsing (and every error at its line), param
//! checks against hostile values, the library with project overrides, and the
//! rendering of every built-in template against the kind schemas.

mod library;
mod parsing;

use super::*;

/// A valid capability file that the tests bend into invalid ones.
pub(super) const GOOD: &str = r#"+++
name = "web-thing"
summary = "A thing"
triggers = ["Deploy", "spin up"]
template = "web-thing.toml.j2"

[params.name]
type = "name"
required = true
description = "short name"

[params.port]
type = "port"
default = "8080"

[params.ip]
type = "address"
pool = "lan"
+++
# Web thing

Prose.

## Aliases/Triggers
- "stand up"
- `deploy`
- launch

## Examples
Some words before the list are fine.
- "Create a new API scanner thing" → name = "api-scanner"
- "Deploy grafana on port 3000" -> name = "grafana", port = "3000"
- "Create a thing" → (declined)

```markdown
- "not an example" garbage
```
"#;

pub(super) fn errs(text: &str) -> Vec<CapError> {
    parse("capabilities/x.md", text, Source::Project).expect_err("should fail")
}

/// GOOD with one line replaced.
pub(super) fn good_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}
