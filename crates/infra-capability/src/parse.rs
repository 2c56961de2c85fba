//! One capability file's text → a [`Capability`], or every problem in it at once,
//! each at the 1-based line it is on. The front matter is TOML between `+++` lines
//! (parsed with spans, so TOML errors land on the right line); the markdown body is
//! read by `body.rs` for trigger lists and examples.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::body;
use super::model::{CapAction, CapError, Capability, Param, ParamType, Source};
use infra_core::spec::check::is_name;
use infra_core::spec::load::{closest, to_json};

const TOP_KEYS: &[&str] = &[
    "name", "summary", "triggers", "action", "template", "params",
];
const PARAM_KEYS: &[&str] = &["type", "required", "default", "description", "pool"];

/// Parse one capability file. `path` is only used in messages.
pub fn parse(path: &str, text: &str, source: Source) -> Result<Capability, Vec<CapError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        path,
        errors: Vec::new(),
        fm_offset_line: 2,
        fm: "",
    };
    let Some((fm, body_text, body_line)) = split_front_matter(text) else {
        let msg = if text.lines().next().is_some_and(|l| l.trim_end() == "+++") {
            "the front matter is not closed: no second `+++` line"
        } else {
            "a capability file starts with TOML front matter between `+++` lines"
        };
        return Err(vec![CapError::new(path, 1, msg).help(
            "start the file with `+++`, then name, summary, triggers, template and [params.*], then `+++`",
        )]);
    };
    p.fm = fm;
    let mut cap = Capability {
        name: String::new(),
        summary: String::new(),
        triggers: Vec::new(),
        action: CapAction::Create,
        template: None,
        template_line: 0,
        params: Vec::new(),
        body: body_text.trim().to_string(),
        examples: Vec::new(),
        source,
        path: path.to_string(),
    };
    let (table, syntax) = DeTable::parse_recoverable(fm);
    let fm_ok = syntax.is_empty();
    for e in syntax {
        let line = e.span().map(|s| p.line(s.start)).unwrap_or(1);
        p.err(
            line,
            format!("TOML: {}", e.message().trim_end()),
            Some("fix the front matter's TOML syntax; see https://toml.io"),
        );
    }
    if fm_ok {
        p.front_matter(table.into_inner(), &mut cap);
    }
    // Expectations are checked against the params only when those parsed cleanly,
    // so one mistake does not echo through every example.
    let params_ok = fm_ok && p.errors.is_empty();
    let parsed = body::parse(body_text, body_line, path);
    p.errors.extend(parsed.errors);
    for t in parsed.triggers {
        if !cap.triggers.contains(&t) {
            cap.triggers.push(t);
        }
    }
    for mut ex in parsed.examples {
        if params_ok {
            match cap.check_params_partial(&ex.expect) {
                Ok(normalised) => ex.expect = normalised,
                Err(msgs) => {
                    for m in msgs {
                        p.err(ex.line, format!("example: {m}"), None);
                    }
                }
            }
        }
        cap.examples.push(ex);
    }
    if p.errors.is_empty() {
        Ok(cap)
    } else {
        p.errors.sort_by_key(|e| e.line);
        Err(p.errors)
    }
}

/// (front matter, body, 1-based line the body starts on), or `None` without `+++` fences.
fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let mut offset = 0;
    let mut fm_start = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let is_fence = line.trim_end() == "+++";
        match fm_start {
            None if i == 0 && is_fence => fm_start = Some(offset + line.len()),
            None => return None,
            Some(start) if is_fence => {
                let body_start = offset + line.len();
                return Some((&text[start..offset], &text[body_start..], i + 2));
            }
            Some(_) => {}
        }
        offset += line.len();
    }
    None
}

struct Parser<'a> {
    path: &'a str,
    errors: Vec<CapError>,
    /// File line of the front matter's first line.
    fm_offset_line: usize,
    fm: &'a str,
}

impl Parser<'_> {
    /// File line of a byte offset into the front matter.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.fm.len());
        self.fm_offset_line
            + self.fm.as_bytes()[..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
    }

    fn err(&mut self, line: usize, msg: impl Into<String>, help: Option<&str>) {
        let mut e = CapError::new(self.path, line, msg);
        e.help = help.map(str::to_string);
        self.errors.push(e);
    }

    fn string(&mut self, key: &str, v: Spanned<DeValue<'_>>) -> Option<String> {
        let line = self.line(v.span().start);
        match v.into_inner() {
            DeValue::String(s) => Some(s.into_owned()),
            other => {
                self.err(
                    line,
                    format!(
                        "`{key}` must be a string, not {}",
                        infra_core::spec::check::type_name(&to_json(other))
                    ),
                    None,
                );
                None
            }
        }
    }

    fn unknown_key(&mut self, line: usize, key: &str, known: &[&str], what: &str) {
        let mut msg = format!("unknown {what} key `{key}`");
        if let Some(c) = closest(key, known.iter().copied()) {
            msg.push_str(&format!(" (did you mean `{c}`?)"));
        }
        self.err(
            line,
            msg,
            Some(&format!("{what} keys are: {}", known.join(", "))),
        );
    }

    fn front_matter(&mut self, table: DeTable<'_>, cap: &mut Capability) {
        let mut template_seen = false;
        for (key, value) in table {
            let key_line = self.line(key.span().start);
            let k = key.get_ref().to_string();
            match k.as_str() {
                "name" => {
                    if let Some(n) = self.string("name", value) {
                        if !is_name(&n) {
                            self.err(
                                key_line,
                                format!("capability name {n:?} is not a name"),
                                Some("use lowercase letters, digits and '-', like \"web-service\""),
                            );
                        }
                        cap.name = n;
                    }
                }
                "summary" => cap.summary = self.string("summary", value).unwrap_or_default(),
                "action" => {
                    if let Some(a) = self.string("action", value) {
                        match CapAction::parse(&a) {
                            Some(a) => cap.action = a,
                            None => self.err(
                                key_line,
                                format!("unknown action {a:?}"),
                                Some(&format!("action is one of {}", CapAction::ALL.join(", "))),
                            ),
                        }
                    }
                }
                "template" => {
                    template_seen = true;
                    cap.template_line = key_line;
                    if let Some(t) = self.string("template", value) {
                        if t.is_empty() || t.contains(['/', '\\']) || t.starts_with('.') {
                            self.err(
                                key_line,
                                format!("template {t:?} is not a file name under templates/"),
                                Some("give the file name only, like \"web-service.toml.j2\""),
                            );
                        }
                        cap.template = Some(t);
                    }
                }
                "triggers" => {
                    let line = self.line(value.span().start);
                    match value.into_inner() {
                        DeValue::Array(items) => {
                            for item in items.iter() {
                                match item.get_ref() {
                                    DeValue::String(s) if !s.trim().is_empty() => {
                                        let t = s.trim().to_lowercase();
                                        if !cap.triggers.contains(&t) {
                                            cap.triggers.push(t);
                                        }
                                    }
                                    _ => self.err(
                                        self.line(item.span().start),
                                        "a trigger must be a non-empty string",
                                        None,
                                    ),
                                }
                            }
                        }
                        _ => self.err(
                            line,
                            "`triggers` must be a list of strings",
                            Some("triggers = [\"deploy\", \"spin up\"]"),
                        ),
                    }
                }
                "params" => match value.into_inner() {
                    DeValue::Table(t) => {
                        for (pk, pv) in t {
                            self.param(pk, pv, cap);
                        }
                    }
                    _ => self.err(key_line, "`params` must be tables: [params.NAME]", None),
                },
                _ => self.unknown_key(key_line, &k, TOP_KEYS, "front-matter"),
            }
        }
        if cap.name.is_empty() && !self.errors.iter().any(|e| e.message.contains("`name`")) {
            self.err(
                1,
                "the front matter has no `name`",
                Some("add name = \"my-capability\""),
            );
        }
        if cap.summary.trim().is_empty() {
            self.err(
                1,
                "the front matter has no `summary`",
                Some("one line saying what the capability builds"),
            );
        }
        match (cap.action, template_seen) {
            (CapAction::Remove, true) => self.err(
                cap.template_line,
                "a remove capability has no template",
                Some("delete the `template` line"),
            ),
            (CapAction::Create | CapAction::Update, false) => self.err(
                1,
                "the front matter has no `template`",
                Some(&format!(
                    "add template = \"{}.toml.j2\" and write that file under templates/",
                    if cap.name.is_empty() {
                        "NAME"
                    } else {
                        &cap.name
                    }
                )),
            ),
            _ => {}
        }
    }

    fn param(
        &mut self,
        key: Spanned<std::borrow::Cow<'_, str>>,
        value: Spanned<DeValue<'_>>,
        cap: &mut Capability,
    ) {
        let name = key.get_ref().to_string();
        let line = self.line(key.span().start);
        if !is_name(&name) || name.contains('-') {
            // Params become template variables, and '-' is subtraction in a template.
            self.err(
                line,
                format!("param name {name:?} must be lowercase letters, digits and '_'"),
                None,
            );
        }
        let DeValue::Table(t) = value.into_inner() else {
            return self.err(
                line,
                format!("param `{name}` must be a table: [params.{name}]"),
                None,
            );
        };
        let mut ty = None;
        let mut ty_line = line;
        let mut required = false;
        let mut default = None;
        let mut description = String::new();
        let mut pool = None;
        for (k, v) in t {
            let kl = self.line(k.span().start);
            match k.get_ref().as_ref() {
                "type" => {
                    ty_line = kl;
                    if let Some(s) = self.string("type", v) {
                        match ParamType::parse(&s) {
                            Some(t) => ty = Some(t),
                            None => {
                                let mut msg = format!("param `{name}`: unknown type {s:?}");
                                if let Some(c) = closest(&s, ParamType::names()) {
                                    msg.push_str(&format!(" (did you mean {c:?}?)"));
                                }
                                let valid = ParamType::names().collect::<Vec<_>>().join(", ");
                                self.err(kl, msg, Some(&format!("valid types: {valid}")));
                                ty = None;
                                ty_line = 0;
                            }
                        }
                    }
                }
                "required" => match v.into_inner() {
                    DeValue::Boolean(b) => required = b,
                    _ => self.err(
                        kl,
                        format!("param `{name}`: `required` must be true or false"),
                        None,
                    ),
                },
                "default" => default = Some((kl, to_json(v.into_inner()))),
                "description" => description = self.string("description", v).unwrap_or_default(),
                "pool" => pool = self.string("pool", v),
                other => self.unknown_key(kl, other, PARAM_KEYS, "param"),
            }
        }
        let Some(ty) = ty else {
            if ty_line != 0 {
                let valid = ParamType::names().collect::<Vec<_>>().join(", ");
                self.err(
                    line,
                    format!("param `{name}` has no `type`"),
                    Some(&format!("add type = \"…\", one of: {valid}")),
                );
            }
            return;
        };
        if required && default.is_some() {
            self.err(
                default.as_ref().map_or(line, |d| d.0),
                format!("param `{name}` is required, so a default would never be used"),
                Some("drop `required = true` or the default"),
            );
        }
        if pool.is_some() && ty != ParamType::Address {
            self.err(
                line,
                format!("param `{name}`: `pool` only applies to type \"address\""),
                None,
            );
        }
        let default = match default {
            Some((dl, v)) => match ty.check(&v) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.err(dl, format!("param `{name}`: default {e}"), None);
                    None
                }
            },
            None => None,
        };
        cap.params.push(Param {
            name,
            ty,
            required,
            default,
            description,
            pool,
        });
    }
}
