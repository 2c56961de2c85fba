//! What the fake answers: contract check, auth, rate limit, then the zone and
//! record operations with Cloudflare's behaviour (NOTES.md §2), and finally a
//! check of the response against the document.

use std::sync::Mutex;

use serde_json::{json, Value};

use super::openapi::Contract;
use super::server::{Request, Response};
use super::{Seen, State, TOKEN};

const PROXIABLE: &[&str] = &["A", "AAAA", "CNAME"];

pub fn handle(st: &Mutex<State>, c: &Contract, req: Request) -> Response {
    let mut s = st.lock().unwrap();
    let path = req
        .path
        .strip_prefix(c.base_path())
        .unwrap_or(&req.path)
        .to_string();
    let resp = route(&mut s, c, &req, &path);
    s.seen.push(Seen {
        method: req.method.clone(),
        path,
        query: req.query.clone(),
        status: resp.status,
        body: serde_json::from_str(&req.body).unwrap_or(Value::Null),
    });
    resp
}

fn route(s: &mut State, c: &Contract, req: &Request, path: &str) -> Response {
    let what = format!("{} {}", req.method, req.path);
    if !req.path.starts_with(c.base_path()) {
        s.violations.push(format!(
            "{what}: not under the API base path {}",
            c.base_path()
        ));
        return fail(400, 7000, "No route for that URI");
    }
    if let Some(zid) = batch_zone(&req.method, path) {
        return batch(s, c, req, &zid);
    }
    let op = match c.operation(&req.method, path) {
        Ok(op) => op,
        Err(e) => {
            s.violations.push(format!("{what}: {e}"));
            return fail(400, 7000, "No route for that URI");
        }
    };
    let errs = c.check_request(&op, &req.query, &req.headers, &req.body);
    let resp = if !errs.is_empty() {
        for e in &errs {
            s.violations.push(format!("{what}: {e}"));
        }
        fail(
            400,
            1001,
            &format!(
                "request does not follow the API contract: {}",
                errs.join("; ")
            ),
        )
    } else {
        serve(s, req, op.template.as_str(), &op.path_params)
    };
    if let Ok(body) = serde_json::from_str::<Value>(&resp.body) {
        for e in c.check_response(&op, resp.status, &body) {
            s.violations
                .push(format!("response {} to {what}: {e}", resp.status));
        }
    }
    resp
}

fn serve(s: &mut State, req: &Request, template: &str, params: &[(String, String)]) -> Response {
    guarded(s, req, |s| dispatch(s, req, template, params))
}

/// Auth, the rate limit and lost answers, around what `handle` does.
fn guarded(s: &mut State, req: &Request, handle: impl FnOnce(&mut State) -> Response) -> Response {
    let token = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token != TOKEN {
        return fail(403, 10000, "Authentication error");
    }
    if s.expired {
        return fail(403, 9109, "Invalid access token");
    }
    if s.throttle.remaining > 0 && !(s.throttle.writes_only && req.method == "GET") {
        s.throttle.remaining -= 1;
        // Message as Cloudflare words it (lablabs/cloudflare-exporter#74), with the
        // code #16's probes saw in real 429 bodies: 10000, which also means
        // "Authentication error". Only the status says which it is.
        let mut r = fail(429, 10000, "More than 1200 requests per 300 seconds reached. Please wait and consider throttling your request speed");
        r.headers
            .push(("retry-after".into(), s.throttle.retry_after.to_string()));
        return r;
    }
    let resp = handle(s);
    if req.method != "GET" && resp.status == 200 && s.lose_answers > 0 {
        s.lose_answers -= 1;
        return Response {
            status: 502,
            headers: Vec::new(),
            body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>".into(),
        };
    }
    resp
}

fn dispatch(s: &mut State, req: &Request, template: &str, params: &[(String, String)]) -> Response {
    let p = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let (zid, rid) = (p("zone_id"), p("dns_record_id"));
    let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
    if template.starts_with("/zones/") && s.zone(zid).is_none() {
        return fail(
            404,
            7003,
            &format!(
                "Could not route to {}, perhaps your object identifier is invalid?",
                req.path
            ),
        );
    }
    match (req.method.as_str(), template) {
        ("GET", "/user/tokens/verify") => {
            ok(json!({"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}))
        }
        ("GET", "/zones") => {
            let name = q(req, "name");
            let all: Vec<Value> = s
                .zones
                .iter()
                .filter(|z| name.is_none_or(|n| z.name == n))
                .map(zone_json)
                .collect();
            page(all, req, 20, s.page_cap)
        }
        ("GET", "/zones/{zone_id}") => ok(zone_json(s.zone(zid).expect("checked"))),
        ("GET", "/zones/{zone_id}/dns_records") => {
            let z = s.zone(zid).expect("checked");
            let eq = |field: &str, param: &str, r: &Value| {
                q(req, param).is_none_or(|want| {
                    r[field]
                        .as_str()
                        .is_some_and(|v| v.eq_ignore_ascii_case(want))
                })
            };
            let all: Vec<Value> = z
                .records
                .iter()
                .filter(|r| {
                    eq("name", "name", r) && eq("type", "type", r) && eq("content", "content", r)
                })
                .filter(|r| eq("comment", "comment", r) && eq("comment", "comment.exact", r))
                .cloned()
                .collect();
            page(all, req, 100, s.page_cap)
        }
        ("GET", "/zones/{zone_id}/dns_records/{dns_record_id}") => match find(s, zid, rid) {
            Some(i) => ok(s.zones_rec(zid)[i].clone()),
            None => fail(404, 81044, "Record does not exist."),
        },
        ("POST", "/zones/{zone_id}/dns_records") => write(s, zid, None, &body, true),
        ("PUT", "/zones/{zone_id}/dns_records/{dns_record_id}") => {
            write(s, zid, Some(rid), &body, true)
        }
        ("PATCH", "/zones/{zone_id}/dns_records/{dns_record_id}") => {
            write(s, zid, Some(rid), &body, false)
        }
        ("DELETE", "/zones/{zone_id}/dns_records/{dns_record_id}") => match find(s, zid, rid) {
            Some(i) => {
                s.zones_rec_mut(zid).remove(i);
                ok(json!({"id": rid}))
            }
            None => fail(404, 81044, "Record does not exist."),
        },
        _ => fail(400, 7000, "No route for that URI"),
    }
}

impl State {
    fn zones_rec(&self, zid: &str) -> &Vec<Value> {
        &self.zone(zid).expect("checked").records
    }
    fn zones_rec_mut(&mut self, zid: &str) -> &mut Vec<Value> {
        &mut self
            .zones
            .iter_mut()
            .find(|z| z.id == zid)
            .expect("checked")
            .records
    }
}

fn find(s: &State, zid: &str, rid: &str) -> Option<usize> {
    s.zones_rec(zid).iter().position(|r| r["id"] == rid)
}

fn q<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// POST (rid None), PUT (replace) or PATCH: Cloudflare's normalisation and checks.
fn write(s: &mut State, zid: &str, rid: Option<&str>, body: &Value, replace: bool) -> Response {
    let zone = s.zone(zid).expect("checked").name.clone();
    let index = match rid {
        Some(id) => match find(s, zid, id) {
            Some(i) => Some(i),
            None => return fail(404, 81044, "Record does not exist."),
        },
        None => None,
    };
    let old = index.map(|i| s.zones_rec(zid)[i].clone());
    let mut r = match (&old, replace) {
        (Some(o), false) => o.clone(),
        _ => json!({}),
    };
    for k in [
        "type", "name", "content", "data", "ttl", "proxied", "priority", "comment", "tags",
    ] {
        if let Some(v) = body.get(k) {
            r[k] = v.clone();
        }
    }
    let rtype = r["type"].as_str().unwrap_or_default().to_string();
    let name = r["name"]
        .as_str()
        .unwrap_or("@")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let fqdn = if name == "@" || name == zone {
        zone.clone()
    } else if name.ends_with(&format!(".{zone}")) {
        name
    } else {
        format!("{name}.{zone}")
    };
    r["name"] = json!(fqdn);
    let d = r["data"].clone();
    match rtype.as_str() {
        "SRV" => {
            r["content"] = json!(format!(
                "{} {} {}",
                d["weight"],
                d["port"],
                d["target"].as_str().unwrap_or("")
            ));
            r["priority"] = d["priority"].clone();
        }
        "CAA" => {
            r["content"] = json!(format!(
                "{} {} \"{}\"",
                d["flags"],
                d["tag"].as_str().unwrap_or(""),
                d["value"].as_str().unwrap_or("")
            ))
        }
        t if d.is_object() => match data_content(t, &d) {
            Some(c) => r["content"] = json!(c),
            None => return fail(400, 1004, "DNS Validation Error"),
        },
        _ if !r["content"].is_string() => return fail(400, 1004, "DNS Validation Error"),
        _ => {}
    }
    if rtype == "MX" && !r["priority"].is_number() {
        return fail(400, 1004, "DNS Validation Error");
    }
    let proxiable = PROXIABLE.contains(&rtype.as_str());
    let proxied = r["proxied"].as_bool().unwrap_or(false);
    if proxied && !proxiable {
        return fail(400, 1004, "DNS Validation Error");
    }
    r["proxiable"] = json!(proxiable);
    r["proxied"] = json!(proxied);
    if proxied || !r["ttl"].is_number() {
        r["ttl"] = json!(1);
    }
    if r["comment"].as_str().is_none_or(str::is_empty) {
        r.as_object_mut().unwrap().remove("comment");
    }
    if !r["tags"].is_array() {
        r["tags"] = json!([]);
    }
    let me = rid.unwrap_or("");
    for other in s
        .zones_rec(zid)
        .iter()
        .filter(|o| o["id"] != me && o["name"] == r["name"])
    {
        let ot = other["type"].as_str().unwrap_or_default();
        if ot == rtype && other["content"] == r["content"] {
            return fail(400, 81058, "An identical record already exists.");
        }
        if (rtype == "CNAME" && PROXIABLE.contains(&ot))
            || (ot == "CNAME" && PROXIABLE.contains(&rtype.as_str()))
        {
            return fail(
                400,
                81053,
                "An A, AAAA, or CNAME record with that host already exists.",
            );
        }
    }
    let now = now();
    let id = match rid {
        Some(id) => id.to_string(),
        None => s.new_id(),
    };
    r["id"] = json!(id);
    r["zone_id"] = json!(zid);
    r["zone_name"] = json!(zone);
    r["locked"] = json!(false);
    r["meta"] = json!({"auto_added": false, "source": "primary"});
    r["created_on"] = old.as_ref().map_or(json!(now), |o| o["created_on"].clone());
    r["modified_on"] = json!(now);
    let records = s.zones_rec_mut(zid);
    match index {
        Some(i) => records[i] = r.clone(),
        None => records.push(r.clone()),
    }
    ok(r)
}

/// A zone object with the fields of octoDNS's fixture plus those the contract
/// requires that the 2017 fixture predates (`account`, `activated_on`).
fn zone_json(z: &super::Zone) -> Value {
    json!({
        "id": z.id, "name": z.name, "status": "active", "paused": false, "type": "full",
        "development_mode": 0,
        "name_servers": ["alice.ns.cloudflare.com", "tom.ns.cloudflare.com"],
        "original_name_servers": [], "original_registrar": null, "original_dnshost": null,
        "modified_on": z.created_on, "created_on": z.created_on, "activated_on": z.created_on,
        "meta": {"step": 4, "custom_certificate_quota": 0, "page_rule_quota": 3, "phishing_detected": false},
        "owner": {"type": "user", "id": "334234243423aaabb334342aaa343433", "email": "owner@example.invalid"},
        "account": {"id": "a67e14daa5f8dceeb91fe5449ba496eb", "name": "Test Account"},
        "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0, "currency": "USD",
                 "frequency": "", "is_subscribed": true, "can_subscribe": false, "legacy_id": "free",
                 "legacy_discount": false, "externally_managed": false}
    })
}

fn page(all: Vec<Value>, req: &Request, default_per_page: usize, cap: usize) -> Response {
    let num = |k: &str| {
        q(req, k)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|f| f as usize)
    };
    let page = num("page").unwrap_or(1).max(1);
    let per_page = num("per_page").unwrap_or(default_per_page).clamp(1, cap);
    let total = all.len();
    let items: Vec<Value> = all
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let mut v = envelope(json!(items));
    v["result_info"] = json!({
        "page": page, "per_page": per_page, "count": items_len(&v),
        "total_count": total, "total_pages": total.div_ceil(per_page)
    });
    respond(200, v)
}

fn items_len(v: &Value) -> usize {
    v["result"].as_array().map_or(0, Vec::len)
}

fn envelope(result: Value) -> Value {
    json!({"success": true, "errors": [], "messages": [], "result": result})
}

fn ok(result: Value) -> Response {
    respond(200, envelope(result))
}

fn fail(status: u16, code: i64, message: &str) -> Response {
    respond(
        status,
        json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null}),
    )
}

fn respond(status: u16, body: Value) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// Now, as Cloudflare writes times: `2026-01-01T12:00:00.123456Z`.
pub fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let (days, secs) = ((d.as_secs() / 86_400) as i64, d.as_secs() % 86_400);
    let (year, month, day) = infra::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        d.subsec_micros()
    )
}

/// `POST /zones/{zone_id}/dns_records/batch`: not in the 2024 extract; its shape
/// is NOTES.md §2's ("Batch"), each item checked against the contract of the
/// single-record call it stands for.
fn batch_zone(method: &str, path: &str) -> Option<String> {
    let rest = path.strip_prefix("/zones/")?;
    let (zid, tail) = rest.split_once('/')?;
    (method == "POST" && tail == "dns_records/batch").then(|| zid.to_string())
}

fn batch(s: &mut State, c: &Contract, req: &Request, zid: &str) -> Response {
    let what = format!("POST {}", req.path);
    let body: Value = match serde_json::from_str(&req.body) {
        Ok(v) => v,
        Err(e) => {
            s.violations.push(format!("{what}: body is not JSON: {e}"));
            return fail(400, 1001, "body is not JSON");
        }
    };
    let mut errs = Vec::new();
    let Some(obj) = body.as_object() else {
        s.violations.push(format!("{what}: body is not an object"));
        return fail(400, 1001, "body is not an object");
    };
    for k in obj.keys() {
        if !["deletes", "patches", "puts", "posts"].contains(&k.as_str()) {
            errs.push(format!("unknown key `{k}`"));
        }
    }
    let list = |k: &str| {
        obj.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for k in ["deletes", "patches", "puts", "posts"] {
        if obj.get(k).is_some_and(|v| !v.is_array()) {
            errs.push(format!("`{k}` is not a list"));
        }
    }
    let one = format!("/zones/{zid}/dns_records");
    let with_id = format!("/zones/{zid}/dns_records/x");
    let check_item = |method: &str, path: &str, item: &Value, errs: &mut Vec<String>| {
        let op = c
            .operation(method, path)
            .expect("single-record operations are in the contract");
        let mut item = item.clone();
        if method != "POST" {
            match item.as_object_mut().and_then(|o| o.remove("id")) {
                Some(Value::String(_)) => {}
                _ => errs.push(format!("a {method} item has no string `id`")),
            }
        }
        for e in c.check_request(&op, &[], &req.headers, &item.to_string()) {
            errs.push(format!("{method} item: {e}"));
        }
    };
    for d in list("deletes") {
        if d.as_object()
            .is_none_or(|o| o.len() != 1 || !o["id"].is_string())
        {
            errs.push(format!("a delete item is not {{\"id\": …}}: {d}"));
        }
    }
    for p in list("patches") {
        check_item("PATCH", &with_id, &p, &mut errs);
    }
    for p in list("puts") {
        check_item("PUT", &with_id, &p, &mut errs);
    }
    for p in list("posts") {
        check_item("POST", &one, &p, &mut errs);
    }
    if !errs.is_empty() {
        for e in &errs {
            s.violations.push(format!("{what}: {e}"));
        }
        return fail(
            400,
            1001,
            &format!(
                "request does not follow the API contract: {}",
                errs.join("; ")
            ),
        );
    }
    guarded(s, req, |s| batch_apply(s, zid, &list))
}

/// The batch itself, once its shape, the token and the rate limit are fine.
fn batch_apply(s: &mut State, zid: &str, list: &dyn Fn(&str) -> Vec<Value>) -> Response {
    if s.zone(zid).is_none() {
        return fail(
            404,
            7003,
            "Could not route to the zone, perhaps your object identifier is invalid?",
        );
    }
    let size = ["deletes", "patches", "puts", "posts"]
        .iter()
        .map(|k| list(k).len())
        .sum::<usize>();
    if size > s.batch_limit {
        return fail(
            400,
            1004,
            &format!(
                "Batch exceeds the limit of {} records per request",
                s.batch_limit
            ),
        );
    }
    // One transaction: deletes → patches → puts → posts; the first error undoes all.
    let before = s.zones_rec(zid).clone();
    let mut result = json!({"deletes": [], "patches": [], "puts": [], "posts": []});
    let mut step = |key: &str, r: Response| -> Result<(), Response> {
        if r.status != 200 {
            return Err(r);
        }
        let v: Value = serde_json::from_str(&r.body).expect("the fake answers JSON");
        result[key]
            .as_array_mut()
            .expect("list")
            .push(v["result"].clone());
        Ok(())
    };
    let mut outcome = Ok(());
    for d in list("deletes") {
        let id = d["id"].as_str().unwrap_or_default();
        let r = match find(s, zid, id) {
            Some(i) => {
                let rec = s.zones_rec_mut(zid).remove(i);
                ok(rec)
            }
            None => fail(404, 81044, "Record does not exist."),
        };
        outcome = outcome.and_then(|()| step("deletes", r));
    }
    for (key, replace) in [("patches", false), ("puts", true)] {
        for p in list(key) {
            if outcome.is_err() {
                break;
            }
            let id = p["id"].as_str().unwrap_or_default().to_string();
            let r = write(s, zid, Some(&id), &p, replace);
            outcome = step(key, r);
        }
    }
    for p in list("posts") {
        if outcome.is_err() {
            break;
        }
        let r = match s.reject_content.clone() {
            Some(bad) if p["content"].as_str() == Some(bad.as_str()) => {
                fail(400, 1004, "DNS Validation Error")
            }
            _ => write(s, zid, None, &p, true),
        };
        outcome = step("posts", r);
    }
    if let Err(r) = outcome {
        *s.zones_rec_mut(zid) = before;
        return r;
    }
    ok(result)
}

/// The read-only `content` Cloudflare shows for a record given as `data`: its
/// fields in zone-file order, as the dashboard shows them.
fn data_content(rtype: &str, d: &Value) -> Option<String> {
    let order: &[&str] = match rtype {
        "SSHFP" => &["algorithm", "type", "fingerprint"],
        "TLSA" | "SMIMEA" => &["usage", "selector", "matching_type", "certificate"],
        "DS" => &["key_tag", "algorithm", "digest_type", "digest"],
        "DNSKEY" => &["flags", "protocol", "algorithm", "public_key"],
        "CERT" => &["type", "key_tag", "algorithm", "certificate"],
        "NAPTR" => &[
            "order",
            "preference",
            "flags",
            "service",
            "regex",
            "replacement",
        ],
        "URI" => &["weight", "target"],
        "SVCB" | "HTTPS" => &["priority", "target", "value"],
        "LOC" => &[
            "lat_degrees",
            "lat_minutes",
            "lat_seconds",
            "lat_direction",
            "long_degrees",
            "long_minutes",
            "long_seconds",
            "long_direction",
            "altitude",
            "size",
            "precision_horz",
            "precision_vert",
        ],
        _ => return None,
    };
    if rtype == "LOC" {
        // As Cloudflare shows it: a zone-file line with metres marked.
        let metres = ["altitude", "size", "precision_horz", "precision_vert"];
        let words: Option<Vec<String>> = order
            .iter()
            .map(|k| {
                let v = d.get(*k)?;
                let t = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                Some(if metres.contains(k) {
                    format!("{t}m")
                } else {
                    t
                })
            })
            .collect();
        return Some(format!("IN LOC {}", words?.join(" ")));
    }
    let quoted = |k: &str| {
        matches!(
            (rtype, k),
            ("NAPTR", "flags" | "service" | "regex") | ("URI", "target")
        )
    };
    let mut words = Vec::new();
    for k in order {
        let v = d.get(*k)?;
        words.push(match v {
            Value::String(s) if quoted(k) => format!("\"{s}\""),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    Some(words.join(" "))
}
