//! The fake's HTTP side: TLS accept, HTTP/1.1 framing (keep-alive,
//! Content-Length bodies), and one request's way through the checks: the proxy
//! faults, the token, the path and method, the parameters, the privileges, the
//! handler, and the reply's `returns` check. Replies use PVE's envelope.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use super::{api, http1, Fault, Options, Schema, Seen, Shared, TOKEN_ID, TOKEN_SECRET};

pub(super) struct Reply {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

/// A self-signed certificate for 127.0.0.1 made with `openssl req`.
pub(super) fn self_signed(
    dir: &std::path::Path,
) -> (
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
    String,
) {
    let (cert, key) = (dir.join("pve-ssl.pem"), dir.join("pve-ssl.key"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=pve1.lab.invalid",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is needed to make the fake's certificate (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&key).unwrap();
    let fp: Vec<String> = <sha2::Sha256 as sha2::Digest>::digest(certs[0].as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    (certs, key, fp.join(":"))
}

pub(super) async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    shared: Arc<Mutex<Shared>>,
    schema: Arc<Schema>,
) {
    let mut buf = Vec::new();
    loop {
        let Some(request) = http1::read_request(&mut s, &mut buf, Duration::from_secs(30)).await
        else {
            return;
        };
        let reply = respond(&request, &shared, &schema);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let mut headers = vec![("Server".to_string(), "pve-api-daemon/3.0".to_string())];
        headers.extend(reply.headers);
        let out = http1::response(reply.status, &reply.reason, &headers, reply.body.as_bytes());
        if s.write_all(&out).await.is_err() || s.flush().await.is_err() {
            return;
        }
    }
}

fn envelope(status: u16, reason: &str, body: Value) -> Reply {
    Reply {
        status,
        reason: reason.lines().next().unwrap_or("").to_string(),
        headers: vec![(
            "Content-Type".into(),
            "application/json;charset=UTF-8".into(),
        )],
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn respond(request: &http1::Request, shared: &Mutex<Shared>, schema: &Schema) -> Reply {
    let mut sh = shared.lock().unwrap();
    let method = request.method.clone();
    let header = |n: &str| request.header(n).map(str::to_string);
    let (path, query, body) = (request.path(), request.query(), &request.body[..]);

    // The reverse proxy answers before PVE sees anything.
    if let Some(i) = sh.faults.iter().position(|f| matches!(f, Fault::Proxy429 { method: m, path: p, .. } if m.is_none_or(|m| m == method) && p.is_none_or(|p| path.contains(p)))) {
        if let Fault::Proxy429 { count, retry_after, .. } = &mut sh.faults[i] {
            let ra = *retry_after;
            *count -= 1;
            if *count == 0 {
                sh.faults.remove(i);
            }
            sh.seen.push(Seen { method: method.clone(), template: path.to_string(), params: BTreeMap::new(), status: 429 });
            return Reply {
                status: 429,
                reason: "Too Many Requests".into(),
                headers: vec![("Content-Type".into(), "text/html".into()), ("Retry-After".into(), ra.to_string())],
                body: "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>\n".into(),
                delay: Duration::ZERO,
            };
        }
    }

    // Auth: `PVEAPIToken=USER@REALM!TOKENID=SECRET` (or a space instead of `=`).
    let auth = header("authorization").unwrap_or_default();
    let value = auth
        .strip_prefix("PVEAPIToken=")
        .or_else(|| auth.strip_prefix("PVEAPIToken "));
    let parsed = value.and_then(|v| v.split(';').next()).and_then(|v| {
        let (id, secret) = v.split_once('=')?;
        let (user, tokenid) = id.split_once('!')?;
        (user.contains('@') && !tokenid.is_empty() && !secret.is_empty())
            .then(|| (id.to_string(), secret.to_string()))
    });
    let delay = sh.opts.unauthorized_delay;
    let Some((id, secret)) = parsed else {
        sh.violations.push(format!(
            "{method} {path}: no well-formed PVEAPIToken Authorization header ({auth:?})"
        ));
        return Reply {
            status: 401,
            reason: "No ticket".into(),
            headers: vec![],
            body: String::new(),
            delay,
        };
    };
    if !sh.token_valid || id != TOKEN_ID || secret != TOKEN_SECRET {
        sh.seen.push(Seen {
            method: method.clone(),
            template: path.to_string(),
            params: BTreeMap::new(),
            status: 401,
        });
        return Reply {
            status: 401,
            reason: "Authentication failed!".into(),
            headers: vec![],
            body: String::new(),
            delay,
        };
    }

    // Route: /api2/json + a template of the contract, segments URI-unescaped.
    let Some(rest) = path.strip_prefix("/api2/json/") else {
        sh.violations
            .push(format!("{method} {path}: not under /api2/json"));
        return envelope(
            501,
            &format!("Method '{method} {path}' not implemented"),
            json!({"data": null}),
        );
    };
    let segs: Vec<String> = rest
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .to_string()
        })
        .collect();
    let Some((template, vars)) = schema.route(&segs) else {
        sh.violations.push(format!(
            "{method} /{rest}: no such path in the PVE {} API",
            schema.version
        ));
        return envelope(
            501,
            &format!("Method '{method} /{rest}' not implemented"),
            json!({"data": null}),
        );
    };
    let Some(info) = schema.info(&template, &method) else {
        sh.violations.push(format!(
            "{method} {template}: the path has no {method} method"
        ));
        return envelope(
            501,
            &format!("Method '{method} {template}' not implemented"),
            json!({"data": null}),
        );
    };

    // Parameters: the query; for POST/PUT the form (or JSON) body too, query winning.
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    if matches!(method.as_str(), "POST" | "PUT") {
        let ctype = header("content-type").unwrap_or_default();
        if ctype == "application/json" {
            if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
                for (k, v) in m {
                    params.insert(
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    );
                }
            }
        } else if ctype.starts_with("application/x-www-form-urlencoded") || body.is_empty() {
            params.extend(form_urlencoded::parse(body).into_owned());
        } else {
            sh.violations.push(format!(
                "{method} {template}: body with Content-Type {ctype:?}"
            ));
        }
    } else if !body.is_empty() {
        sh.violations.push(format!(
            "{method} {template}: a body on a {method} (PVE reads only the query)"
        ));
    }
    params.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
    for (k, v) in &vars {
        if params
            .insert(k.clone(), v.clone())
            .is_some_and(|old| old != *v)
        {
            sh.violations
                .push(format!("{method} {template}: {k} given twice"));
        }
    }
    let errors = schema.check_params(info, &params);
    if !errors.is_empty() {
        let list: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        sh.violations
            .push(format!("{method} {template}: {}", list.join("; ")));
        sh.seen.push(Seen {
            method: method.clone(),
            template: template.clone(),
            params,
            status: 400,
        });
        return error_reply(
            &sh.opts,
            400,
            "Parameter verification failed.",
            Some(json!(errors)),
        );
    }
    let (status, reply) = answer(&mut sh, schema, info, &method, &template, &params, &id);
    sh.seen.push(Seen {
        method,
        template,
        params,
        status,
    });
    reply
}

fn answer(
    sh: &mut Shared,
    schema: &Schema,
    info: &Value,
    method: &str,
    template: &str,
    params: &BTreeMap<String, String>,
    user: &str,
) -> (u16, Reply) {
    if let Some(i) = sh.faults.iter().position(|f| matches!(f, Fault::Die { method: m, path, .. } if *m == method && template.contains(path))) {
        let Fault::Die { message, .. } = sh.faults.remove(i) else { unreachable!() };
        return (500, error_reply(&sh.opts, 500, &message, None));
    }
    let (privs, any) = api::required_privs(info, template, params);
    let missing: Vec<&(String, String)> = privs
        .iter()
        .filter(|p| sh.world.denied.contains(*p))
        .collect();
    if !privs.is_empty() && ((any && missing.len() == privs.len()) || (!any && !missing.is_empty()))
    {
        let (path, privilege) = missing[0];
        return (
            403,
            error_reply(
                &sh.opts,
                403,
                &format!("Permission check failed ({path}, {privilege})"),
                None,
            ),
        );
    }
    match api::handle(&mut sh.world, method, template, params, user) {
        Ok(mut data) => {
            let mut problems = Vec::new();
            schema.check_return(
                &info["returns"],
                &data,
                &format!("{method} {template} returns"),
                &mut problems,
            );
            sh.violations.extend(problems);
            if sh.opts.ints_as_strings {
                stringify_ints(&mut data);
            }
            (200, envelope(200, "OK", json!({ "data": data })))
        }
        Err(e) => (
            e.status,
            error_reply(&sh.opts, e.status, &e.message, e.errors.map(Value::Object)),
        ),
    }
}

/// PVE's error reply: reason = first line; body `{"data":null}` (+ `errors`), and
/// since 8.3 `message` with a trailing newline.
fn error_reply(opts: &Options, status: u16, message: &str, errors: Option<Value>) -> Reply {
    let mut body = json!({ "data": null });
    if let Some(e) = errors {
        body["errors"] = e;
    }
    if !opts.pre_8_3_errors {
        body["message"] = json!(format!("{}\n", message.trim_end()));
    }
    envelope(status, message, body)
}

/// Older releases: integer fields as JSON strings (`"vmid":"105"`).
fn stringify_ints(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(stringify_ints),
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if matches!(
                    k.as_str(),
                    "vmid" | "maxcpu" | "cores" | "memory" | "maxmem"
                ) {
                    if let Some(i) = x.as_i64() {
                        *x = json!(i.to_string());
                    }
                }
            }
        }
        _ => {}
    }
}
