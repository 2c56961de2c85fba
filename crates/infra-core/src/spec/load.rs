//! Reading spec files: `infra.toml` and `infra/**/*.toml`, parsed with source spans.
//!
//! Loading never stops at the first problem: every file is parsed (with error recovery)
//! and every problem becomes a diagnostic, so `infra validate` reports them all at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::beneath::Beneath;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{
    schema, Address, Attrs, Diagnostic, Diagnostics, Loc, McpSettings, Policy, Pool,
    ProviderConfig, Resource, Spec, StateSettings, Value, MCP_TOOLS,
};

pub const ROOT_FILE: &str = "infra.toml";
pub const SPEC_DIR: &str = "infra";
/// Everything the desired state is made of: what git must have committed before
/// an apply, what ask refuses to mix with its own change, what rollback restores.
pub const SPEC_PATHS: &[&str] = &["infra.toml", "infra", "templates", "capabilities"];
pub const RESERVED: &[&str] = &[
    "project",
    "providers",
    "pools",
    "ai",
    "policy",
    "vars",
    "state",
    "mcp",
];

/// Walk up from `start` to the first directory holding `infra.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(ROOT_FILE).is_file())
        .map(Path::to_path_buf)
}

/// Largest spec file infra reads (a 10,000-resource spec is about 1 MiB).
pub const MAX_SPEC_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Spec files of a project, in load order: `infra.toml` first, then `infra/` sorted.
/// Found without following links: a spec file or directory that is a symlink is
/// reported by `load`, never read through.
pub fn spec_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = vec![PathBuf::from(ROOT_FILE)];
    let mut found: Vec<PathBuf> = Beneath::open(root)?
        .list_names(Path::new(SPEC_DIR))?
        .into_iter()
        .filter(|n| n.ends_with(".toml"))
        .map(|n| Path::new(SPEC_DIR).join(n))
        .collect();
    found.sort();
    files.extend(found);
    Ok(files)
}

/// Load a project's spec. I/O failures are errors (naming the file, and the line
/// for text that is not UTF-8); everything about the content is a diagnostic.
pub fn load(root: &Path) -> std::io::Result<(Spec, Diagnostics)> {
    let dir = Beneath::open(root)?;
    let mut texts = Vec::new();
    for rel in spec_files(root)? {
        let bytes = dir
            .read(&rel, MAX_SPEC_FILE_BYTES)
            .map_err(|e| {
                let why = e.to_string();
                // `beneath` names the full path; the project-relative one reads better.
                let why = why
                    .rsplit_once(": ")
                    .map_or(why.as_str(), |(_, w)| w)
                    .to_string();
                std::io::Error::new(e.kind(), format!("{}: {why}", rel.display()))
            })?
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{}: not found", rel.display()),
                )
            })?;
        texts.push((rel.clone(), utf8_text(&rel, bytes.data)?));
    }
    Ok(load_texts(root, texts))
}

/// The text of a spec file, or where it stops being UTF-8.
fn utf8_text(rel: &Path, bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}:{line}:{column}: not valid UTF-8; spec files are UTF-8 text",
                rel.display()
            ),
        )
    })
}

/// Load a spec from in-memory file texts (paths relative to `root`).
pub fn load_texts(root: &Path, texts: Vec<(PathBuf, String)>) -> (Spec, Diagnostics) {
    let mut spec = Spec {
        root: root.to_path_buf(),
        ..Spec::default()
    };
    let mut diags = Diagnostics::default();
    for (rel, text) in texts {
        let file = spec.sources.add(rel, text);
        // The parsed tree borrows the text; parse from a copy owned for this loop.
        let text = spec.sources.file(file).text.clone();
        let (table, errors) = DeTable::parse_recoverable(&text);
        for e in errors {
            let loc = e.span().map(|span| Loc { file, span });
            diags.push(
                Diagnostic::error(format!("TOML syntax: {}", e.message().trim_end()))
                    .at_opt(loc)
                    .help("fix the TOML syntax; see https://toml.io"),
            );
        }
        let is_root = file == 0;
        let mut l = Loader {
            spec: &mut spec,
            diags: &mut diags,
            file,
        };
        l.top(table.into_inner(), is_root);
    }
    if spec.project.name.is_empty() {
        spec.project.name = root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "infra".into());
    }
    (spec, diags)
}

struct Loader<'a> {
    spec: &'a mut Spec,
    diags: &'a mut Diagnostics,
    file: usize,
}

impl Loader<'_> {
    fn loc(&self, span: std::ops::Range<usize>) -> Loc {
        Loc {
            file: self.file,
            span,
        }
    }

    fn err(
        &mut self,
        span: std::ops::Range<usize>,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(msg).at(self.loc(span)).help(help);
        self.diags.push(d);
    }

    fn top(&mut self, table: DeTable<'_>, is_root: bool) {
        for (key, value) in table {
            let name = key.get_ref().to_string();
            if name == super::outputs::TABLE {
                // Outputs sit beside the resources they name, in any spec file.
                let (outputs, sources) = (&mut self.spec.outputs, &self.spec.sources);
                super::outputs::load(self.file, value, outputs, sources, self.diags);
            } else if RESERVED.contains(&name.as_str()) {
                if !is_root {
                    self.err(
                        key.span(),
                        format!("[{name}] belongs in infra.toml"),
                        "files under infra/ hold only resources and [outputs]",
                    );
                    continue;
                }
                self.reserved(&name, key.span(), value);
            } else if schema::kind(&name).is_some() {
                self.kind(&name, key.span(), value);
            } else {
                let help = match closest(
                    &name,
                    schema::kinds()
                        .iter()
                        .map(|k| k.name)
                        .chain(RESERVED.iter().copied())
                        .chain([super::outputs::TABLE]),
                ) {
                    Some(s) => format!("did you mean `{s}`? known kinds: {}", kind_list()),
                    None => format!("known kinds: {}", kind_list()),
                };
                self.err(key.span(), format!("unknown kind or table `{name}`"), help);
            }
        }
    }

    fn reserved(&mut self, name: &str, span: std::ops::Range<usize>, value: Spanned<DeValue<'_>>) {
        let vspan = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.err(
                vspan,
                format!("`{name}` must be a table"),
                format!("write it as [{name}]"),
            );
            return;
        };
        match name {
            "project" => self.project(table),
            "providers" => self.named_tables(table, "providers", |l, n, s, t| l.provider(n, s, t)),
            "pools" => self.named_tables(table, "pools", |l, n, s, t| l.pool(n, s, t)),
            "policy" => self.policy(table),
            "state" => self.state(table),
            "mcp" => self.mcp(table),
            "ai" => (self.spec.ai, self.spec.ai_locs) = self.plain_attrs(table),
            "vars" => (self.spec.vars, self.spec.var_locs) = self.plain_attrs(table),
            _ => self.err(span, format!("unexpected table {name}"), ""),
        }
    }

    fn project(&mut self, table: DeTable<'_>) {
        for (key, value) in table {
            let vspan = value.span();
            match (key.get_ref().as_ref(), value.into_inner()) {
                ("name", DeValue::String(s)) => self.spec.project.name = s.to_string(),
                ("domain", DeValue::String(s)) => self.spec.project.domain = Some(s.to_string()),
                ("name" | "domain", _) => {
                    self.err(vspan, "expected a string", "e.g. name = \"homelab\"")
                }
                (other, _) => self.err(
                    key.span(),
                    format!("unknown project setting `{other}`"),
                    "known: name, domain",
                ),
            }
        }
    }

    fn named_tables(
        &mut self,
        table: DeTable<'_>,
        what: &str,
        mut each: impl FnMut(&mut Self, String, std::ops::Range<usize>, DeTable<'_>),
    ) {
        for (key, value) in table {
            let vspan = value.span();
            match value.into_inner() {
                DeValue::Table(t) => each(self, key.get_ref().to_string(), key.span(), t),
                _ => self.err(
                    vspan,
                    format!("[{what}.{}] must be a table", key.get_ref()),
                    format!("write it as [{what}.{}]", key.get_ref()),
                ),
            }
        }
    }

    fn provider(&mut self, name: String, span: std::ops::Range<usize>, table: DeTable<'_>) {
        let (mut settings, mut setting_locs) = self.plain_attrs(table);
        let kind = match settings.remove("kind") {
            Some(Value::String(k)) => k,
            _ => {
                self.err(
                    span.clone(),
                    format!("provider `{name}` has no kind"),
                    "add kind = \"file\" (or docker, nginx, powerdns, ...)",
                );
                String::new()
            }
        };
        setting_locs.remove("kind");
        let loc = Some(self.loc(span));
        self.spec.providers.insert(
            name.clone(),
            ProviderConfig {
                name,
                kind,
                settings,
                loc,
                setting_locs,
            },
        );
    }

    fn pool(&mut self, name: String, span: std::ops::Range<usize>, table: DeTable<'_>) {
        let mut pool = Pool {
            name: name.clone(),
            cidr: None,
            range: None,
            gateway: None,
            loc: Some(self.loc(span.clone())),
        };
        for (key, value) in table {
            let vspan = value.span();
            let text = match value.into_inner() {
                DeValue::String(s) => s.to_string(),
                _ => {
                    self.err(
                        vspan,
                        "expected a string",
                        "pools take cidr, range and gateway as strings",
                    );
                    continue;
                }
            };
            match key.get_ref().as_ref() {
                "cidr" => match text.parse::<ipnet::IpNet>() {
                    Ok(net) => pool.cidr = Some(net),
                    Err(_) => self.err(
                        vspan,
                        format!("`{text}` is not a network"),
                        "write it like \"192.168.1.0/24\"",
                    ),
                },
                "range" => match parse_range(&text) {
                    Some(r) => pool.range = Some(r),
                    None => self.err(
                        vspan,
                        format!("`{text}` is not an address range"),
                        "write it like \"192.168.1.50-192.168.1.199\"",
                    ),
                },
                "gateway" => match text.parse() {
                    Ok(ip) => pool.gateway = Some(ip),
                    Err(_) => self.err(
                        vspan,
                        format!("`{text}` is not an IP address"),
                        "write it like \"192.168.1.1\"",
                    ),
                },
                other => self.err(
                    key.span(),
                    format!("unknown pool setting `{other}`"),
                    "known: cidr, range, gateway",
                ),
            }
        }
        if pool.cidr.is_none() {
            self.err(
                span,
                format!("pool `{name}` has no cidr"),
                "add cidr = \"192.168.1.0/24\"",
            );
        }
        self.spec.pools.insert(name, pool);
    }

    fn policy(&mut self, table: DeTable<'_>) {
        let mut policy = Policy::default();
        for (key, value) in table {
            let vspan = value.span();
            match (key.get_ref().as_ref(), value.into_inner()) {
                ("protect", DeValue::Array(items)) => {
                    for item in items {
                        let ispan = item.span();
                        match item.into_inner() {
                            DeValue::String(s) if Address::parse(&s).is_some() => {
                                policy.protect.push(s.to_string())
                            }
                            _ => self.err(
                                ispan,
                                "expected a resource address",
                                "e.g. protect = [\"container.db\"]",
                            ),
                        }
                    }
                }
                ("max_destroy", DeValue::Integer(i)) => match i.as_str().parse::<u64>() {
                    Ok(n) => policy.max_destroy = Some(n),
                    Err(_) => self.err(
                        vspan,
                        "expected a non-negative integer",
                        "e.g. max_destroy = 3",
                    ),
                },
                ("protect" | "max_destroy", _) => self.err(
                    vspan,
                    "wrong type",
                    "protect = [\"kind.name\", ...], max_destroy = N",
                ),
                (other, _) => self.err(
                    key.span(),
                    format!("unknown policy setting `{other}`"),
                    "known: protect, max_destroy",
                ),
            }
        }
        self.spec.policy = policy;
    }

    fn mcp(&mut self, table: DeTable<'_>) {
        let mut mcp = McpSettings::default();
        let errors_before = self.diags.items.len();
        for (key, value) in table {
            let vspan = value.span();
            match (key.get_ref().as_ref(), value.into_inner()) {
                ("tools", DeValue::Array(items)) => {
                    let mut tools = Vec::new();
                    for item in items {
                        let ispan = item.span();
                        match item.into_inner() {
                            DeValue::String(s) if MCP_TOOLS.contains(&s.as_ref()) => {
                                tools.push(s.to_string())
                            }
                            _ => self.err(
                                ispan,
                                "expected the name of an infra mcp tool",
                                format!("known tools: {}", MCP_TOOLS.join(", ")),
                            ),
                        }
                    }
                    mcp.tools = Some(tools);
                }
                ("allow_apply", DeValue::Boolean(b)) => mcp.allow_apply = b,
                ("allow_apply", _) => {
                    self.err(vspan, "expected true or false", "allow_apply = true")
                }
                ("tools", _) => self.err(
                    vspan,
                    "expected a list of tool names",
                    "e.g. tools = [\"validate\", \"plan\"]",
                ),
                (other, _) => self.err(
                    key.span(),
                    format!("unknown mcp setting `{other}`"),
                    "known: tools, allow_apply",
                ),
            }
        }
        // A table that does not read allows nothing (never every tool).
        if self.diags.items.len() > errors_before {
            mcp = McpSettings {
                tools: Some(Vec::new()),
                allow_apply: false,
                invalid: true,
            };
        }
        self.spec.mcp = mcp;
    }

    fn state(&mut self, table: DeTable<'_>) {
        let mut state = StateSettings::default();
        for (key, value) in table {
            let vspan = value.span();
            match (key.get_ref().as_ref(), value.into_inner()) {
                ("remote", DeValue::String(s)) if !s.trim().is_empty() => {
                    state.remote = Some(s.to_string())
                }
                ("branch", DeValue::String(s))
                    if !s.trim().is_empty() && !s.starts_with('-') && !s.contains("..") =>
                {
                    state.branch = Some(s.to_string())
                }
                ("branch", _) => {
                    self.err(vspan, "expected a branch name", "e.g. branch = \"main\"")
                }
                ("lock_stale_after", DeValue::String(s)) => match parse_duration(&s) {
                    Some(secs) => state.lock_stale_after = Some(secs),
                    None => self.err(
                        vspan,
                        format!("`{s}` is not a duration"),
                        "a number and a unit: \"90m\", \"2h\", \"1d\"",
                    ),
                },
                ("remote", _) => self.err(
                    vspan,
                    "expected a remote's name",
                    "e.g. remote = \"origin\"",
                ),
                ("lock_stale_after", _) => self.err(
                    vspan,
                    "expected a duration",
                    "e.g. lock_stale_after = \"2h\"",
                ),
                (other, _) => self.err(
                    key.span(),
                    format!("unknown state setting `{other}`"),
                    "known: remote, branch, lock_stale_after",
                ),
            }
        }
        self.spec.state = state;
    }

    fn kind(&mut self, kind: &str, span: std::ops::Range<usize>, value: Spanned<DeValue<'_>>) {
        let vspan = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            let _ = span;
            self.err(
                vspan,
                format!("`{kind}` must hold resource tables"),
                format!("write resources as [{kind}.NAME]"),
            );
            return;
        };
        for (key, value) in table {
            let name = key.get_ref().to_string();
            let vspan = value.span();
            let DeValue::Table(body) = value.into_inner() else {
                self.err(
                    vspan,
                    format!("`{kind}.{name}` must be a table"),
                    format!("write it as [{kind}.{name}]"),
                );
                continue;
            };
            if !super::check::is_name(&name) {
                self.err(
                    key.span(),
                    format!("invalid resource name `{name}`"),
                    "use lowercase letters, digits, '-' and '_' (at most 63)",
                );
                continue;
            }
            self.resource(Address::new(kind, name), key.span(), body);
        }
    }

    fn resource(&mut self, address: Address, span: std::ops::Range<usize>, body: DeTable<'_>) {
        let mut r = Resource {
            address: address.clone(),
            provider: None,
            group: None,
            depends_on: Vec::new(),
            attrs: Attrs::new(),
            settings: BTreeMap::new(),
            loc: self.loc(span.clone()),
            attr_locs: BTreeMap::new(),
        };
        let schema = schema::kind(&address.kind).expect("kind checked by caller");
        for (key, value) in body {
            let k = key.get_ref().to_string();
            let vspan = value.span();
            let is_map_attr = schema.attr(&k).is_some_and(|a| a.ty == schema::Ty::Map);
            if super::schema::META_ATTRS.contains(&k.as_str()) {
                r.attr_locs.insert(k.clone(), self.loc(vspan.clone()));
            }
            match (k.as_str(), value.into_inner()) {
                ("provider", DeValue::String(s)) => r.provider = Some(s.to_string()),
                ("group", DeValue::String(s)) => {
                    if !super::check::is_name(&s) {
                        self.err(
                            vspan.clone(),
                            format!("invalid group name `{s}`"),
                            "use lowercase letters, digits, '-' and '_'",
                        );
                    }
                    r.group = Some(s.to_string())
                }
                ("depends_on", DeValue::Array(items)) => {
                    for item in items {
                        let ispan = item.span();
                        match item.into_inner() {
                            DeValue::String(s) => {
                                r.depends_on.push((s.to_string(), self.loc(ispan)))
                            }
                            _ => self.err(
                                ispan,
                                "expected a resource address string",
                                "e.g. depends_on = [\"container.db\"]",
                            ),
                        }
                    }
                }
                ("provider" | "group", _) => self.err(vspan, format!("`{k}` must be a string"), ""),
                ("depends_on", _) => self.err(
                    vspan,
                    "`depends_on` must be a list of addresses",
                    "e.g. depends_on = [\"container.db\"]",
                ),
                (_, DeValue::Table(t)) if !is_map_attr => {
                    // A nested table is provider-specific settings: [container.x.proxmox].
                    let (attrs, locs) = self.plain_attrs(t);
                    // Kept as `PROVIDER.NAME`, which no attribute name can be.
                    for (name, loc) in locs {
                        r.attr_locs.insert(format!("{k}.{name}"), loc);
                    }
                    r.settings.insert(k, attrs);
                }
                (_, v) => {
                    self.plain_value(&v, vspan.clone());
                    r.attrs.insert(k.clone(), to_json(v));
                    r.attr_locs.insert(k, self.loc(vspan));
                }
            }
        }
        if let Some(&prev) = self.spec.index.get(&address) {
            let first = self.spec.sources.describe(&self.spec.resources[prev].loc);
            self.err(
                span,
                format!("`{address}` is declared twice"),
                format!("first declared at {first}; rename one of them"),
            );
            return;
        }
        self.spec.index.insert(address, self.spec.resources.len());
        self.spec.resources.push(r);
    }

    /// A table of plain values, with the location of each.
    fn plain_attrs(&mut self, table: DeTable<'_>) -> (Attrs, BTreeMap<String, Loc>) {
        let mut attrs = Attrs::new();
        let mut locs = BTreeMap::new();
        for (key, value) in table {
            let k = key.get_ref().to_string();
            locs.insert(k.clone(), self.loc(value.span()));
            self.plain_value(value.get_ref(), value.span());
            attrs.insert(k, to_json(value.into_inner()));
        }
        (attrs, locs)
    }

    /// TOML values infra has no faithful JSON for are errors at their place, not
    /// silently turned into something else: a date-time (where a string was meant),
    /// an integer beyond 64 bits, a float that is not finite.
    fn plain_value(&mut self, v: &DeValue<'_>, span: std::ops::Range<usize>) {
        match v {
            DeValue::Datetime(_) => self.err(
                span,
                "a TOML date-time is not a value infra takes",
                "if you mean the text, quote it: \"1979-05-27T07:32:00Z\"",
            ),
            DeValue::Integer(i) => {
                let s = i.as_str().replace('_', "");
                let fits = match i.radix() {
                    10 => s.parse::<i64>().is_ok(),
                    r => i64::from_str_radix(&s, r).is_ok(),
                };
                if s.is_empty() {
                    self.err(
                        span,
                        "a number without digits",
                        "write the number, e.g. 0x1f or 31",
                    );
                } else if !fits {
                    self.err(
                        span,
                        format!("{} is too large a number", i.as_str()),
                        "numbers must fit in 64 bits (at most 9223372036854775807)",
                    );
                }
            }
            DeValue::Float(f) => {
                let finite = f
                    .as_str()
                    .replace('_', "")
                    .parse::<f64>()
                    .is_ok_and(f64::is_finite);
                if !finite {
                    self.err(
                        span,
                        format!("{} is not a finite number", f.as_str()),
                        "write a number such as 1.5",
                    );
                }
            }
            DeValue::Array(items) => {
                for item in items {
                    self.plain_value(item.get_ref(), item.span());
                }
            }
            DeValue::Table(t) => {
                for (_, item) in t {
                    self.plain_value(item.get_ref(), item.span());
                }
            }
            DeValue::String(_) | DeValue::Boolean(_) => {}
        }
    }
}

/// TOML value → JSON value (datetimes become strings).
/// "90s", "30m", "2h", "1d" → seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let unit_at = s.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = s[..unit_at].parse().ok()?;
    let unit = match s[unit_at..].trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}

pub fn to_json(v: DeValue<'_>) -> Value {
    match v {
        DeValue::String(s) => Value::String(s.into_owned()),
        DeValue::Integer(i) => {
            let s = i.as_str().replace('_', "");
            let parsed = match i.radix() {
                10 => s.parse::<i64>().ok(),
                r => i64::from_str_radix(&s, r).ok(),
            };
            parsed.map(Value::from).unwrap_or_else(|| Value::String(s))
        }
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(a) => Value::Array(a.into_iter().map(|x| to_json(x.into_inner())).collect()),
        DeValue::Table(t) => Value::Object(
            t.into_iter()
                .map(|(k, v)| (k.into_inner().into_owned(), to_json(v.into_inner())))
                .collect(),
        ),
    }
}

/// A spec file's text as JSON, each value read as `load` reads it: what the
/// JSON schema of spec files (`infra schema`) describes. `Err`: the TOML syntax error.
pub fn file_json(text: &str) -> Result<Value, String> {
    let table = DeTable::parse(text).map_err(|e| e.message().trim_end().to_string())?;
    Ok(to_json(DeValue::Table(table.into_inner())))
}

fn parse_range(s: &str) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
    let (a, b) = s.split_once('-')?;
    let (a, b): (std::net::IpAddr, std::net::IpAddr) =
        (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a.is_ipv4() == b.is_ipv4() && a <= b).then_some((a, b))
}

fn kind_list() -> String {
    schema::kinds()
        .iter()
        .map(|k| k.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (crate::util::edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
