//! A small OpenAPI 3.0 checker for the Cloudflare contract, loaded at test time
//! from `../shared/contracts/cloudflare/cloudflare-dns-records-openapi-2024-08-06.json`
//! (cloudflare/api-schemas `openapi.json` at commit cca3064f1aba08cc6cef52fc7b3d3064a9eafcc9,
//! 2024-08-06, BSD-3-Clause © 2022 Cloudflare, extracted as described in
//! shared/contracts/README.md). The document is never copied into this repository.
//!
//! What it checks, for the subset of OpenAPI / JSON Schema the document uses:
//! - requests: (method, path template) exists under the `servers` base path;
//!   path parameters match their schema; every query parameter is declared
//!   for the operation and its value matches the declared schema (type, enum,
//!   minimum/maximum, maxLength); required query parameters are present; the
//!   security requirements are met (`Authorization: Bearer …` for `api_token`,
//!   both headers for `api_email`+`api_key`); the body is JSON with the
//!   declared media type and matches the request body schema.
//! - schemas: `$ref` (within the file), `type` (with `nullable`), `enum`,
//!   `properties`, `required`, `additionalProperties`, `items`, `uniqueItems`,
//!   `minItems`/`maxItems`, `minimum`/`maximum`, `minLength`/`maxLength` (strings),
//!   `format` ipv4/ipv6/date-time/hostname, `allOf` (all), `anyOf` (at least
//!   one), `oneOf` (exactly one), `readOnly` (must not be sent in requests).
//! - responses: the status is declared (exact, then `4XX`-style class) and the
//!   body matches its schema.
//!
//! What it does not check: `pattern` (no regex engine here), `format`s other
//! than the four above, `multipleOf`, `discriminator`, `not`, headers other than
//! auth, response headers.
//!
//! Upstream quirks handled (shared/contracts/README.md): response keys `"4xx"`
//! are normalised to `"4XX"`; the dns_records operations list only key+email
//! security although Bearer tokens work, so the document-level `security` (which
//! includes `api_token`) is accepted too; required properties that are `readOnly`
//! are not required in requests, and neither is `id` (the request schema
//! `dns-records_dns-record` lists it as required but its `$ref` carries no
//! `readOnly`); `DELETE …/dns_records/{id}` declares a required body with no
//! schema, which real clients (cloudflare-go) never send, so a missing body is
//! accepted when no schema is given; the 4XX schemas are `allOf` a success
//! envelope (`success: enum [true]`, `result` a record) and the failure envelope
//! (`success: enum [false]`, `result: null`), which no value can satisfy, so
//! error responses are checked against the `…-common-failure` part alone.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

pub const FILE: &str = "cloudflare/cloudflare-dns-records-openapi-2024-08-06.json";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Request,
    Response,
}

pub struct Contract {
    doc: Value,
    base_path: String,
}

/// One operation of the document.
pub struct Op<'a> {
    pub method: String,
    pub template: String,
    pub spec: &'a Value,
    pub path_params: Vec<(String, String)>,
}

/// `shared/contracts/` next to the repository (`INFRA_CONTRACTS_DIR` overrides).
pub fn contracts_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("INFRA_CONTRACTS_DIR") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/contracts")
}

impl Contract {
    /// The contract, read once per test binary.
    pub fn get() -> Arc<Contract> {
        static C: OnceLock<Arc<Contract>> = OnceLock::new();
        C.get_or_init(|| Arc::new(Contract::load())).clone()
    }

    fn load() -> Contract {
        let path = contracts_dir().join(FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the Cloudflare API contract at {}: {e}\n\
                 The Cloudflare tests check every request against Cloudflare's OpenAPI document, \
                 kept outside this repository in shared/contracts/ (see its README). Clone the \
                 repository next to a copy of shared/, or set INFRA_CONTRACTS_DIR to that folder.",
                path.display()
            )
        });
        let mut doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        normalise_status_keys(&mut doc);
        let base_path = doc["servers"][0]["url"]
            .as_str()
            .and_then(|u| u.split_once("://"))
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        Contract { doc, base_path }
    }

    /// `/client/v4`: the path prefix of the document's server URL.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    pub fn schema(&self, name: &str) -> &Value {
        &self.doc["components"]["schemas"][name]
    }

    /// The operation for a method and a path below the base path.
    pub fn operation(&self, method: &str, path: &str) -> Result<Op<'_>, String> {
        let m = method.to_ascii_lowercase();
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object().expect("paths");
        for (template, item) in paths {
            let tsegs: Vec<&str> = template.trim_matches('/').split('/').collect();
            if tsegs.len() != segs.len() {
                continue;
            }
            let mut params = Vec::new();
            let matched = tsegs.iter().zip(&segs).all(|(t, s)| {
                match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) if !s.is_empty() => {
                        params.push((name.to_string(), s.to_string()));
                        true
                    }
                    _ => t == s,
                }
            });
            if !matched {
                continue;
            }
            return match item.get(&m) {
                Some(spec) => Ok(Op {
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    spec,
                    path_params: params,
                }),
                None => Err(format!("{method} is not declared for {template}")),
            };
        }
        Err(format!("no path in the contract matches {method} {path}"))
    }

    fn params<'a>(&'a self, op: &'a Op<'_>, location: &str) -> Vec<&'a Value> {
        op.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| self.resolve(p))
            .filter(|p| p["in"] == location)
            .collect()
    }

    /// Every way `op` is called wrongly, as messages; empty when the call is fine.
    pub fn check_request(
        &self,
        op: &Op<'_>,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: &str,
    ) -> Vec<String> {
        let mut errs = Vec::new();
        let header = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        for (name, value) in &op.path_params {
            if let Some(p) = self
                .params(op, "path")
                .into_iter()
                .find(|p| p["name"] == name.as_str())
            {
                self.check(
                    &p["schema"],
                    &Value::from(value.as_str()),
                    &format!("path parameter {name}"),
                    Mode::Request,
                    &mut errs,
                );
            }
        }
        let declared = self.params(op, "query");
        for (name, value) in query {
            let Some(p) = declared.iter().find(|p| p["name"] == name.as_str()) else {
                errs.push(format!("query parameter `{name}` is not declared"));
                continue;
            };
            let schema = self.resolve(&p["schema"]);
            let v = typed(value, schema["type"].as_str());
            match v {
                Some(v) => self.check(
                    schema,
                    &v,
                    &format!("query parameter {name}"),
                    Mode::Request,
                    &mut errs,
                ),
                None => errs.push(format!(
                    "query parameter {name}={value:?} is not a {}",
                    schema["type"]
                )),
            }
        }
        for p in declared.iter().filter(|p| p["required"] == true) {
            if !query.iter().any(|(n, _)| p["name"] == n.as_str()) {
                errs.push(format!(
                    "required query parameter `{}` is missing",
                    p["name"]
                ));
            }
        }
        // Security: the operation's requirements, or (quirk) the document's.
        let mut reqs: Vec<&Value> = op.spec["security"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        reqs.extend(self.doc["security"].as_array().into_iter().flatten());
        let schemes = &self.doc["components"]["securitySchemes"];
        let met = |req: &Value| {
            req.as_object().is_some_and(|r| {
                r.keys().all(|name| {
                    let s = &schemes[name];
                    match (s["type"].as_str(), s["scheme"].as_str()) {
                        (Some("http"), Some("bearer")) => header("authorization")
                            .and_then(|v| v.strip_prefix("Bearer "))
                            .is_some_and(|t| !t.trim().is_empty()),
                        (Some("apiKey"), _) => {
                            s["in"] == "header"
                                && s["name"]
                                    .as_str()
                                    .and_then(header)
                                    .is_some_and(|v| !v.is_empty())
                        }
                        _ => false,
                    }
                })
            })
        };
        if !reqs.is_empty() && !reqs.iter().any(|r| met(r)) {
            errs.push(
                "no security requirement is met (expected `Authorization: Bearer <token>`)".into(),
            );
        }
        let rb = self.resolve(&op.spec["requestBody"]);
        if rb.is_null() {
            if !body.trim().is_empty() {
                errs.push("a body was sent but the operation declares none".into());
            }
            return errs;
        }
        let schema = rb["content"]["application/json"].get("schema");
        if body.trim().is_empty() {
            if rb["required"] == true && schema.is_some() {
                errs.push("the request body is required".into());
            }
            return errs;
        }
        let ct = header("content-type").unwrap_or("");
        if !ct.starts_with("application/json") {
            errs.push(format!(
                "content-type {ct:?} is not the declared application/json"
            ));
        }
        match serde_json::from_str::<Value>(body) {
            Err(e) => errs.push(format!("the body is not JSON: {e}")),
            Ok(v) => {
                if let Some(s) = schema {
                    self.check(s, &v, "body", Mode::Request, &mut errs);
                }
            }
        }
        errs
    }

    /// Every way a response differs from what the document declares.
    pub fn check_response(&self, op: &Op<'_>, status: u16, body: &Value) -> Vec<String> {
        let responses = &op.spec["responses"];
        let class = format!("{}XX", status / 100);
        let Some(r) = [status.to_string(), class, "default".into()]
            .iter()
            .find_map(|k| responses.get(k))
        else {
            return vec![format!(
                "status {status} is not declared for {} {}",
                op.method, op.template
            )];
        };
        let r = self.resolve(r);
        let Some(mut schema) = r["content"]["application/json"].get("schema") else {
            return Vec::new();
        };
        if status >= 400 {
            if let Some(failure) = self.resolve(schema)["allOf"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| {
                    s["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("api-response-common-failure"))
                })
            {
                schema = failure;
            }
        }
        let mut errs = Vec::new();
        self.check(schema, body, "response", Mode::Response, &mut errs);
        errs
    }

    /// Check `v` against `schema` in `mode`; messages name the JSON path.
    pub fn validate(&self, schema: &Value, v: &Value, mode: Mode) -> Vec<String> {
        let mut errs = Vec::new();
        self.check(schema, v, "$", mode, &mut errs);
        errs
    }

    fn resolve<'a>(&'a self, mut s: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(r) = s.get("$ref").and_then(Value::as_str) else {
                return s;
            };
            let ptr = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external $ref {r} is not supported"));
            s = self
                .doc
                .pointer(ptr)
                .unwrap_or_else(|| panic!("$ref {r} does not resolve"));
        }
        panic!("$ref chain too deep")
    }

    fn check(&self, s: &Value, v: &Value, at: &str, mode: Mode, errs: &mut Vec<String>) {
        let s = self.resolve(s);
        if v.is_null()
            && (s["nullable"] == true
                || s["enum"]
                    .as_array()
                    .is_some_and(|e| e.contains(&Value::Null)))
        {
            return;
        }
        if let Some(t) = s["type"].as_str() {
            if !has_type(v, t) {
                errs.push(format!("{at}: expected {t}, got {}", short(v)));
                return;
            }
        }
        if let Some(e) = s["enum"].as_array() {
            if !e.contains(v) {
                errs.push(format!(
                    "{at}: {} is not one of {}",
                    short(v),
                    Value::from(e.clone())
                ));
            }
        }
        if let Some(n) = v.as_f64() {
            if s["minimum"].as_f64().is_some_and(|m| n < m)
                || s["maximum"].as_f64().is_some_and(|m| n > m)
            {
                errs.push(format!(
                    "{at}: {n} is outside [{}, {}]",
                    s["minimum"], s["maximum"]
                ));
            }
        }
        if let Some(text) = v.as_str() {
            let len = text.chars().count() as u64;
            if s["maxLength"].as_u64().is_some_and(|m| len > m)
                || s["minLength"].as_u64().is_some_and(|m| len < m)
            {
                errs.push(format!("{at}: length {len} is outside the declared bounds"));
            }
            if let Some(f) = s["format"].as_str() {
                if !format_ok(f, text) {
                    errs.push(format!("{at}: {text:?} is not a valid {f}"));
                }
            }
        }
        if let Some(items) = v.as_array() {
            if let Some(is) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.check(is, item, &format!("{at}[{i}]"), mode, errs);
                }
            }
            if s["uniqueItems"] == true
                && items
                    .iter()
                    .enumerate()
                    .any(|(i, a)| items[..i].contains(a))
            {
                errs.push(format!("{at}: items are not unique"));
            }
            let n = items.len() as u64;
            if s["minItems"].as_u64().is_some_and(|m| n < m)
                || s["maxItems"].as_u64().is_some_and(|m| n > m)
            {
                errs.push(format!("{at}: {n} items is outside the declared bounds"));
            }
        }
        if let Some(obj) = v.as_object() {
            let props = s["properties"].as_object();
            for (k, val) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => {
                        if mode == Mode::Request && self.resolve(ps)["readOnly"] == true {
                            errs.push(format!("{at}.{k}: read-only property sent in a request"));
                        }
                        self.check(ps, val, &format!("{at}.{k}"), mode, errs);
                    }
                    None => match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errs.push(format!("{at}.{k}: property not allowed"))
                        }
                        Some(ap) if ap.is_object() => {
                            self.check(ap, val, &format!("{at}.{k}"), mode, errs)
                        }
                        _ => {}
                    },
                }
            }
            for name in s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if obj.contains_key(name) {
                    continue;
                }
                if mode == Mode::Request && (name == "id" || self.read_only(s, v, name, 0)) {
                    continue;
                }
                errs.push(format!("{at}: required property `{name}` is missing"));
            }
        }
        for sub in s["allOf"].as_array().into_iter().flatten() {
            self.check(sub, v, at, mode, errs);
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(alts) = s[key].as_array() else {
                continue;
            };
            let results: Vec<Vec<String>> = alts
                .iter()
                .map(|a| {
                    let mut e = Vec::new();
                    self.check(a, v, at, mode, &mut e);
                    e
                })
                .collect();
            let passing = results.iter().filter(|e| e.is_empty()).count();
            if passing == 0 {
                let closest = results
                    .iter()
                    .min_by_key(|e| e.len())
                    .cloned()
                    .unwrap_or_default();
                errs.push(format!(
                    "{at}: matches none of the {} {key} alternatives; closest: {}",
                    alts.len(),
                    closest.join("; ")
                ));
            } else if exactly_one && passing > 1 {
                errs.push(format!(
                    "{at}: matches {passing} oneOf alternatives, exactly one is allowed"
                ));
            }
        }
    }

    /// Is property `name` read-only where `v` meets `s` (own properties, allOf,
    /// and the anyOf/oneOf alternatives `v` satisfies)?
    fn read_only(&self, s: &Value, v: &Value, name: &str, depth: usize) -> bool {
        let s = self.resolve(s);
        if depth > 16 {
            return false;
        }
        if s["properties"]
            .get(name)
            .is_some_and(|p| self.resolve(p)["readOnly"] == true)
        {
            return true;
        }
        let all = s["allOf"].as_array().into_iter().flatten();
        let alts = ["anyOf", "oneOf"]
            .iter()
            .flat_map(|k| s[*k].as_array().into_iter().flatten())
            .filter(|a| self.validate(a, v, Mode::Request).is_empty());
        all.chain(alts)
            .any(|sub| self.read_only(sub, v, name, depth + 1))
    }
}

/// "4xx" → "4XX" in every responses object (an upstream quirk).
fn normalise_status_keys(doc: &mut Value) {
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            if let Some(r) = op.get_mut("responses").and_then(Value::as_object_mut) {
                let keys: Vec<String> = r.keys().filter(|k| k.ends_with("xx")).cloned().collect();
                for k in keys {
                    let v = r.remove(&k).expect("key listed");
                    r.insert(k.to_ascii_uppercase(), v);
                }
            }
        }
    }
}

/// A query string value as the JSON value its schema type describes.
fn typed(value: &str, ty: Option<&str>) -> Option<Value> {
    match ty {
        Some("number") => value.parse::<f64>().ok().map(Value::from),
        Some("integer") => value.parse::<i64>().ok().map(Value::from),
        Some("boolean") => match value {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::from(value)),
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn format_ok(format: &str, s: &str) -> bool {
    match format {
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "hostname" => {
            !s.is_empty()
                && s.len() <= 253
                && s.trim_end_matches('.').split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars()
                            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                })
        }
        "date-time" => date_time_ok(s),
        _ => true,
    }
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn date_time_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
    {
        return false;
    }
    if !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    rest == "Z"
        || rest == "z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':')
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > 80 {
        format!("{}…", t.chars().take(80).collect::<String>())
    } else {
        t
    }
}
