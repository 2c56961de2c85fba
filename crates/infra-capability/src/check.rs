//! `infra capabilities check`: everything that can be known about a library without
//! a spec. Load errors, template syntax, and for every capability its template
//! rendered with defaults and with each example's params, the output parsed as TOML
//! and held against the kind schemas. Running examples through the offline
//! interpreter is the [`ExampleRunner`] hook's job (the `ask` module implements it).

use serde_json::{json, Map, Value};

use super::library::Library;
use super::model::{CapAction, CapError, Capability, Example, ParamType};
use super::render::{environment, is_private, parse_ip, template_error};
use infra_core::spec::schema;

/// Runs one example request through an interpreter and compares the outcome with
/// `example.expect` (or checks that it declines when `example.declined`).
pub trait ExampleRunner {
    /// `Err` says how the outcome differs from the expectation.
    fn run(&mut self, cap: &Capability, example: &Example) -> Result<(), String>;
}

#[derive(Debug, Default)]
pub struct CheckReport {
    pub errors: Vec<CapError>,
    pub capabilities: usize,
    pub renders: usize,
    /// Examples given to the runner (0 when there was none).
    pub examples_run: usize,
    pub examples_total: usize,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Check a loaded library; `runner`, when given, is called once per example.
pub fn check(lib: &Library, mut runner: Option<&mut dyn ExampleRunner>) -> CheckReport {
    let mut report = CheckReport {
        errors: lib.errors.clone(),
        capabilities: lib.caps.len(),
        ..CheckReport::default()
    };
    let env = environment(&lib.templates);
    for cap in &lib.caps {
        report.examples_total += cap.examples.len();
        if let Some(t) = cap
            .template
            .as_deref()
            .filter(|t| lib.templates.contains_key(*t))
        {
            let tpath = lib
                .template_paths
                .get(t)
                .cloned()
                .unwrap_or_else(|| t.to_string());
            let template = match env.get_template(t) {
                Ok(tpl) => tpl,
                Err(e) => {
                    report.errors.push(template_error(&tpath, &e));
                    continue;
                }
            };
            // Each example's params over the defaults; without examples, the defaults
            // alone (an update capability may rightly refuse defaults only).
            let mut cases: Vec<(usize, Map<String, Value>)> = cap
                .examples
                .iter()
                .filter(|e| !e.declined)
                .map(|e| (e.line, e.expect.clone()))
                .collect();
            if cases.is_empty() {
                cases.push((0, Map::new()));
            }
            for (line, given) in cases {
                let ctx = sample_context(cap, &given);
                report.renders += 1;
                let out =
                    match template.render(minijinja::Value::from(minijinja::value::Serde(&ctx))) {
                        Ok(out) => out,
                        Err(e) => {
                            report
                                .errors
                                .push(with_case(template_error(&tpath, &e), cap, line));
                            continue;
                        }
                    };
                for msg in check_rendered(&out, cap.action) {
                    report
                        .errors
                        .push(with_case(CapError::new(&tpath, 0, msg), cap, line));
                }
            }
        }
        if let Some(r) = runner.as_deref_mut() {
            for ex in &cap.examples {
                report.examples_run += 1;
                if let Err(why) = r.run(cap, ex) {
                    report.errors.push(CapError::new(
                        &cap.path,
                        ex.line,
                        format!("example {:?}: {why}", ex.request),
                    ));
                }
            }
        }
    }
    report
}

/// Say which render failed: with defaults, or with the example on `line`.
fn with_case(mut e: CapError, cap: &Capability, line: usize) -> CapError {
    e.help = Some(if line == 0 {
        format!("rendering for `{}` with default params", cap.name)
    } else {
        format!(
            "rendering for `{}` with the example at {}:{line}",
            cap.name, cap.path
        )
    });
    e
}

/// The context the expander gives a template, with sample values where it would use
/// the spec (project domain, pools): params (defaults applied, required ones sampled),
/// `project`, `fqdn`, `zone`, `record_name`, `group`, and for capabilities with an
/// `address` param also `ip`, `gateway` and `internal`.
pub fn sample_context(cap: &Capability, given: &Map<String, Value>) -> Value {
    let mut params = cap.params_with_defaults(given);
    for p in &cap.params {
        if p.required && params[&p.name].is_null() {
            params.insert(p.name.clone(), p.ty.sample());
        }
    }
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("example")
        .to_string();
    let domain = "lab.example.com";
    let fqdn = cap
        .params
        .iter()
        .filter(|p| p.ty == ParamType::Fqdn)
        .find_map(|p| params[&p.name].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{name}.{domain}"));
    let (record_name, zone) = split_zone(&fqdn);
    let mut ctx = Map::new();
    ctx.insert(
        "project".into(),
        json!({ "name": "example", "domain": domain }),
    );
    ctx.insert("fqdn".into(), fqdn.clone().into());
    ctx.insert("zone".into(), zone.into());
    ctx.insert("record_name".into(), record_name.into());
    ctx.insert("group".into(), name.into());
    // Only capabilities with an address param get an allocated address, like the expander.
    if let Some(p) = cap.params.iter().find(|p| p.ty == ParamType::Address) {
        let ip = match params[&p.name].as_str() {
            Some(a) if a.contains('/') => a.to_string(),
            Some(a) => format!("{a}/24"),
            None => "10.0.0.50/24".to_string(),
        };
        let internal = parse_ip(&ip).is_some_and(|a| is_private(&a));
        ctx.insert("ip".into(), ip.into());
        ctx.insert("gateway".into(), "10.0.0.1".into());
        ctx.insert("internal".into(), internal.into());
    }
    // Params win over derived values of the same name (web-service's `internal`), except
    // `ip`: the derived one is the param's address with its pool prefix added.
    for (k, v) in params {
        if !((v.is_null() || k == "ip") && ctx.contains_key(&k)) {
            ctx.insert(k, v);
        }
    }
    Value::Object(ctx)
}

/// `a.b.example.com` → (`a.b`, `example.com`): the last two labels are the zone.
fn split_zone(fqdn: &str) -> (String, String) {
    let labels: Vec<&str> = fqdn.split('.').collect();
    if labels.len() <= 2 {
        return ("@".into(), fqdn.into());
    }
    let cut = labels.len() - 2;
    (labels[..cut].join("."), labels[cut..].join("."))
}

/// Problems in a rendered template: TOML syntax, unknown kinds or attributes,
/// computed attributes set, invalid literal values, missing required attributes
/// (for `create`), and names that are not resource names.
pub fn check_rendered(text: &str, action: CapAction) -> Vec<String> {
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            return vec![format!(
                "the rendered template is not TOML: {}",
                e.message().trim_end()
            )]
        }
    };
    let mut errors = Vec::new();
    if table.is_empty() && action != CapAction::Remove {
        errors.push("the rendered template declares no resources".into());
    }
    for (kind, resources) in &table {
        let Some(schema) = schema::kind(kind) else {
            let known: Vec<&str> = schema::kinds().iter().map(|k| k.name).collect();
            let mut msg = format!("[{kind}] is not a resource kind");
            match infra_core::spec::load::closest(kind, known.iter().copied()) {
                Some(c) => msg.push_str(&format!(" (did you mean `{c}`?)")),
                None => msg.push_str(&format!(" (kinds: {})", known.join(", "))),
            }
            errors.push(msg);
            continue;
        };
        let Some(resources) = resources.as_table() else {
            errors.push(format!("`{kind}` must hold [{kind}.NAME] tables"));
            continue;
        };
        for (name, attrs) in resources {
            let addr = format!("{kind}.{name}");
            if !infra_core::spec::check::is_name(name) {
                errors.push(format!("[{addr}]: {name:?} is not a resource name"));
            }
            let Some(attrs) = attrs.as_table() else {
                errors.push(format!("{addr} must be a table"));
                continue;
            };
            for (k, v) in attrs {
                if schema::META_ATTRS.contains(&k.as_str()) || v.is_table() {
                    continue; // meta attributes, and provider settings in nested tables
                }
                let Some(attr) = schema.attr(k) else {
                    let mut msg = format!("{addr}: unknown attribute `{k}`");
                    if let Some(c) = infra_core::spec::load::closest(k, schema.attr_names()) {
                        msg.push_str(&format!(" (did you mean `{c}`?)"));
                    }
                    errors.push(msg);
                    continue;
                };
                if attr.computed {
                    errors.push(format!(
                        "{addr}: `{k}` is computed by the provider and cannot be set"
                    ));
                    continue;
                }
                let json = serde_json::to_value(v).unwrap_or(Value::Null);
                if !infra_core::spec::refs::has_refs(&json) {
                    if let Err(why) = infra_core::spec::check::check(attr.ty, &json) {
                        errors.push(format!("{addr}.{k} = {v}: {why}"));
                    }
                }
            }
            if action == CapAction::Create {
                for a in schema
                    .attrs
                    .iter()
                    .filter(|a| a.required && !attrs.contains_key(a.name))
                {
                    errors.push(format!(
                        "{addr}: required attribute `{}` is missing",
                        a.name
                    ));
                }
            }
        }
    }
    errors
}
