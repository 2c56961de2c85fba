//! A proxy_site as an nginx file: validate attributes, render, and read back.
//!
//! File layout:
//! ```text
//! # infra:PROJECT/proxy_site.NAME (managed by infra; ...)     ownership marker
//! # infra-attrs: {"listen":"80","server_name":...}             the attributes, as JSON
//! server { ... }                                                rendered from site.conf.j2
//! ```
//! Read back is honest about hand edits: the JSON line is believed only if the
//! body is exactly what it renders to. Otherwise the attributes are parsed from
//! the body's directives (so an edited `proxy_pass` shows as a changed
//! `upstream`); and if the body holds lines no attribute can express, no
//! attribute is reported as known — the site shows `edited_lines` instead, and
//! the plan rewrites it.

use std::sync::OnceLock;

use serde_json::Value;

use infra_core::spec::Attrs;
use infra_kit::parse_marker;

const TEMPLATE: &str = include_str!("site.conf.j2");
const ATTRS_PREFIX: &str = "# infra-attrs: ";

/// Attributes this provider reads and writes (schema order).
pub const ATTRS: &[&str] = &[
    "server_name",
    "upstream",
    "listen",
    "tls_cert",
    "tls_key",
    "http_listen",
    "allow",
    "websocket",
    "client_max_body_size",
];

/// A proxy_site with every value checked for nginx.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Site {
    pub server_name: String,
    pub upstream: String,
    /// As given; `listen` in the file gains ` ssl` when TLS is on.
    pub listen: String,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// With TLS: where the plain-HTTP server (redirect, ACME answers) listens.
    pub http_listen: Option<String>,
    pub allow: Vec<String>,
    pub websocket: bool,
    pub client_max_body_size: Option<String>,
    /// Not an attribute: the provider's `challenge_dir`, served at
    /// `/.well-known/acme-challenge/` on plain HTTP when set.
    pub challenge_dir: Option<String>,
}

/// An nginx token we will write unquoted: nothing that nginx (or a shell, or a
/// comment) could read as syntax. The spec layer checks types already; this is
/// the last line of defence, so it is strict.
fn token(name: &str, s: &str) -> Result<(), String> {
    let bad = s.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, ';' | '{' | '}' | '#' | '$' | '"' | '\'' | '\\' | '`')
    });
    match bad {
        _ if s.is_empty() => Err(format!("`{name}` is empty")),
        Some(c) => Err(format!(
            "`{name}` = {s:?} contains {c:?}, which nginx would read as syntax"
        )),
        None => Ok(()),
    }
}

/// A value for nginx's `listen`: a port or ADDRESS:PORT, then parameters.
pub(super) fn listen_ok(listen: &str) -> bool {
    !listen.is_empty()
        && listen.split(' ').count() <= 8
        && listen.split(' ').all(|t| {
            !t.is_empty()
                && t.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '.' | ':' | '[' | ']' | '=' | '_' | '-')
                })
        })
}

/// The directory a rendered body serves ACME answers from.
fn challenge_dir_in(body: &str) -> Option<String> {
    let mut lines = body.lines().map(str::trim);
    lines.find(|l| l.starts_with("location ^~ /.well-known/acme-challenge/"))?;
    let alias = lines.next()?.strip_prefix("alias ")?.strip_suffix("/;")?;
    Some(alias.to_string())
}

fn opt_str(attrs: &Attrs, name: &str) -> Result<Option<String>, String> {
    match attrs.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`{name}` must be a string, not {other}")),
    }
}

impl Site {
    pub fn from_attrs(attrs: &Attrs) -> Result<Site, String> {
        let req = |n: &str| opt_str(attrs, n)?.ok_or_else(|| format!("`{n}` is required"));
        let site = Site {
            server_name: req("server_name")?,
            upstream: req("upstream")?,
            listen: opt_str(attrs, "listen")?.unwrap_or_else(|| "80".into()),
            tls_cert: opt_str(attrs, "tls_cert")?,
            tls_key: opt_str(attrs, "tls_key")?,
            http_listen: opt_str(attrs, "http_listen")?,
            challenge_dir: None,
            allow: match attrs.get("allow") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(String::from)
                            .ok_or_else(|| format!("`allow` entries must be strings, not {v}"))
                    })
                    .collect::<Result<_, _>>()?,
                Some(other) => return Err(format!("`allow` must be a list, not {other}")),
            },
            websocket: match attrs.get("websocket") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(format!("`websocket` must be true or false, not {other}"))
                }
            },
            client_max_body_size: opt_str(attrs, "client_max_body_size")?,
        };
        site.check()?;
        Ok(site)
    }

    fn check(&self) -> Result<(), String> {
        token("server_name", &self.server_name)?;
        token("upstream", &self.upstream)?;
        if !(self.upstream.starts_with("http://") || self.upstream.starts_with("https://")) {
            return Err(format!(
                "`upstream` = {:?} must be an http:// or https:// URL",
                self.upstream
            ));
        }
        let listens = std::iter::once(("listen", &self.listen))
            .chain(self.http_listen.iter().map(|l| ("http_listen", l)));
        for (name, listen) in listens {
            if !listen_ok(listen) {
                return Err(format!(
                    "`{name}` = {listen:?} is not an nginx listen value (a port, ADDRESS:PORT, or those followed by parameters like `default_server`)"
                ));
            }
        }
        if let (Some(h), None) = (&self.http_listen, &self.tls_cert) {
            return Err(format!(
                "`http_listen` = {h:?} is for TLS sites (where plain HTTP redirects to https); without `tls_cert` the site answers on `listen`"
            ));
        }
        if self.tls_cert.is_some() {
            let h = self.http_listen.as_deref().unwrap_or("80");
            if h.split(' ').next() == self.listen.split(' ').next() {
                return Err(format!(
                    "`http_listen` and `listen` are both {h:?}: plain HTTP and TLS need their own ports"
                ));
            }
        }
        if let Some(d) = &self.challenge_dir {
            token("challenge_dir", d)?;
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => {
                for (n, p) in [("tls_cert", c), ("tls_key", k)] {
                    token(n, p)?;
                    if !p.starts_with('/') {
                        return Err(format!("`{n}` = {p:?} must be an absolute path"));
                    }
                }
            }
            (None, None) => {}
            _ => return Err("`tls_cert` and `tls_key` go together: set both or neither".into()),
        }
        for a in &self.allow {
            if a.parse::<ipnet::IpNet>().is_err() && a.parse::<std::net::IpAddr>().is_err() {
                return Err(format!(
                    "`allow` entry {a:?} is not an address or CIDR like 10.0.0.0/8"
                ));
            }
        }
        if let Some(s) = &self.client_max_body_size {
            let digits = s.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
            let ok = !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
                && s.len() - digits.len() <= 1;
            if !ok {
                return Err(format!(
                    "`client_max_body_size` = {s:?} is not a size like 512k, 10m or 1g"
                ));
            }
        }
        Ok(())
    }

    /// The `listen` directive's value.
    fn listen_directive(&self) -> String {
        if self.tls_cert.is_some() && !self.listen.split(' ').any(|t| t == "ssl") {
            format!("{} ssl", self.listen)
        } else {
            self.listen.clone()
        }
    }

    /// `:PORT` for the https redirect, empty for 443.
    fn https_port(&self) -> String {
        let first = self.listen.split(' ').next().unwrap_or("");
        let port = first.rsplit(':').next().unwrap_or(first);
        match port {
            "443" => String::new(),
            p if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => format!(":{p}"),
            _ => String::new(),
        }
    }

    /// The `server { … }` block.
    pub fn render_body(&self) -> String {
        static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
        let env = ENV.get_or_init(|| {
            let mut env = minijinja::Environment::new();
            let syntax = env
                .syntax()
                .to_builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("whitespace settings are valid");
            env.set_syntax(syntax);
            env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
            env.add_template("site.conf", TEMPLATE)
                .expect("the embedded site template parses");
            env
        });
        let mut ctx = serde_json::to_value(self).expect("a site serialises");
        ctx["listen"] = Value::from(self.listen_directive());
        ctx["http_listen"] = Value::from(self.http_listen.as_deref().unwrap_or("80"));
        ctx["https_port"] = Value::from(self.https_port());
        env.get_template("site.conf")
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&ctx))))
            .expect("the embedded site template renders any checked site")
    }

    /// Attributes as the spec writes them (defaults included, unset ones absent).
    pub fn to_attrs(&self) -> Attrs {
        let mut a = Attrs::new();
        a.insert("server_name".into(), Value::from(self.server_name.clone()));
        a.insert("upstream".into(), Value::from(self.upstream.clone()));
        a.insert("listen".into(), Value::from(self.listen.clone()));
        a.insert("websocket".into(), Value::from(self.websocket));
        if let Some(c) = &self.tls_cert {
            a.insert("tls_cert".into(), Value::from(c.clone()));
        }
        if let Some(k) = &self.tls_key {
            a.insert("tls_key".into(), Value::from(k.clone()));
        }
        if let Some(h) = &self.http_listen {
            a.insert("http_listen".into(), Value::from(h.clone()));
        }
        if !self.allow.is_empty() {
            a.insert("allow".into(), Value::from(self.allow.clone()));
        }
        if let Some(s) = &self.client_max_body_size {
            a.insert("client_max_body_size".into(), Value::from(s.clone()));
        }
        a
    }

    /// Recover a site from a body this module rendered (perhaps edited since).
    /// `None` unless re-rendering the recovered site gives back exactly `body`.
    pub fn parse_body(body: &str) -> Option<Site> {
        let mut site = Site {
            server_name: String::new(),
            upstream: String::new(),
            listen: String::new(),
            tls_cert: None,
            tls_key: None,
            http_listen: None,
            allow: Vec::new(),
            websocket: false,
            client_max_body_size: None,
            challenge_dir: None,
        };
        // Server blocks seen (the second is a TLS site's plain-HTTP one), and
        // whether we are inside the ACME answer location.
        let (mut servers, mut in_challenge) = (0, false);
        for line in body.lines() {
            let line = line.trim();
            if line == "server {" {
                servers += 1;
            } else if line.starts_with("location ^~ /.well-known/acme-challenge/") {
                in_challenge = true;
            } else if line == "}" {
                in_challenge = false;
            }
            let Some(d) = line.strip_suffix(';') else {
                continue;
            };
            let (name, value) = d.split_once(' ').unwrap_or((d, ""));
            let value = value.to_string();
            match name {
                "alias" if in_challenge => {
                    site.challenge_dir = Some(value.trim_end_matches('/').to_string())
                }
                _ if in_challenge => {}
                "listen" if servers > 1 => site.http_listen = Some(value),
                _ if servers > 1 => {}
                "listen" => site.listen = value,
                "server_name" => site.server_name = value,
                "ssl_certificate" => site.tls_cert = Some(value),
                "ssl_certificate_key" => site.tls_key = Some(value),
                "client_max_body_size" => site.client_max_body_size = Some(value),
                "allow" => site.allow.push(value),
                "proxy_pass" => site.upstream = value,
                "proxy_set_header" if value.starts_with("Upgrade ") => site.websocket = true,
                _ => {}
            }
        }
        if site.tls_cert.is_some() {
            if let Some(l) = site.listen.strip_suffix(" ssl") {
                site.listen = l.to_string();
            }
        }
        // The default plain-HTTP port reads back as unset: the spec rarely says it.
        if site.http_listen.as_deref() == Some("80") {
            site.http_listen = None;
        }
        site.check().ok()?;
        (site.render_body() == body).then_some(site)
    }
}

/// The attributes this provider manages, as given (so `allow = []` reads back as `[]`).
pub fn own_attrs(attrs: &Attrs) -> Attrs {
    attrs
        .iter()
        .filter(|(k, _)| ATTRS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The whole file for a site owned by `marker`, answering ACME http-01 from
/// `challenge_dir` when the provider has one.
pub fn render_file(
    marker: &str,
    attrs: &Attrs,
    challenge_dir: Option<&str>,
) -> Result<String, String> {
    let attrs = own_attrs(attrs);
    let mut site = Site::from_attrs(&attrs)?;
    site.challenge_dir = challenge_dir.map(String::from);
    site.check()?;
    let json = serde_json::to_string(&attrs).expect("attributes serialise");
    Ok(format!(
        "# {marker} (managed by infra; edits by hand show as drift and are overwritten)\n{ATTRS_PREFIX}{json}\n{}",
        site.render_body()
    ))
}

/// What a file says: its owner (this project's marker on line 1) and its attributes.
pub fn read_back(project: &str, text: &str) -> (Option<String>, Attrs) {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let owner = first
        .strip_prefix('#')
        .map(str::trim_start)
        .and_then(|m| m.split_whitespace().next())
        .and_then(|m| parse_marker(project, m))
        .map(str::to_string);
    if owner.is_none() {
        // Not ours: a hand-written site, readable only if it is in our shape.
        let attrs = Site::parse_body(text)
            .map(|s| s.to_attrs())
            .unwrap_or_default();
        return (None, attrs);
    }
    let (header, body) = match rest.split_once('\n') {
        Some((h, b)) if h.starts_with(ATTRS_PREFIX) => (Some(&h[ATTRS_PREFIX.len()..]), b),
        _ => (None, rest),
    };
    let mut claimed = header
        .and_then(|h| serde_json::from_str::<Attrs>(h).ok())
        .map(|a| own_attrs(&a))
        .and_then(|a| Site::from_attrs(&a).ok().map(|s| (a, s)));
    if let Some((attrs, site)) = &mut claimed {
        site.challenge_dir = challenge_dir_in(body);
        if site.render_body() == body {
            return (owner, attrs.clone());
        }
    }
    if let Some(site) = Site::parse_body(body) {
        return (owner, site.to_attrs());
    }
    // Hand edits no attribute can express: report them, and no attribute as known.
    let expected = claimed.map(|(_, s)| s.render_body()).unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert(
        "edited_lines".into(),
        Value::from(edited_lines(&expected, body)),
    );
    (owner, attrs)
}

/// `+ line` / `- line` for lines added to or missing from what infra wrote.
fn edited_lines(expected: &str, actual: &str) -> Vec<String> {
    use similar::{ChangeTag, TextDiff};
    let mut out: Vec<String> = TextDiff::from_lines(expected, actual)
        .iter_all_changes()
        .filter_map(|c| match c.tag() {
            _ if c.value().trim().is_empty() => None,
            ChangeTag::Equal => None,
            ChangeTag::Insert => Some(format!("+ {}", c.value().trim())),
            ChangeTag::Delete => Some(format!("- {}", c.value().trim())),
        })
        .collect();
    if out.len() > 20 {
        let more = out.len() - 20;
        out.truncate(20);
        out.push(format!("… and {more} more"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Attrs {
        serde_json::from_value(v).unwrap()
    }

    fn full() -> Site {
        Site::from_attrs(&attrs(json!({
            "server_name": "app.example.com", "upstream": "http://10.0.0.5:8080",
            "listen": "443", "tls_cert": "/etc/ssl/app.pem", "tls_key": "/etc/ssl/app.key",
            "allow": ["10.0.0.0/8", "192.168.1.7"], "websocket": true, "client_max_body_size": "10m"
        })))
        .unwrap()
    }

    #[test]
    fn renders_every_attribute() {
        insta::assert_snapshot!(full().render_body(), @r#"
        server {
            listen 443 ssl;
            server_name app.example.com;
            ssl_certificate /etc/ssl/app.pem;
            ssl_certificate_key /etc/ssl/app.key;
            client_max_body_size 10m;
            allow 10.0.0.0/8;
            allow 192.168.1.7;
            deny all;

            location / {
                proxy_pass http://10.0.0.5:8080;
                proxy_set_header Host $host;
                proxy_set_header X-Real-IP $remote_addr;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection "upgrade";
            }
        }

        server {
            listen 80;
            server_name app.example.com;

            location / {
                return 301 https://$host$request_uri;
            }
        }
        "#);
    }

    #[test]
    fn minimal_site() {
        let s = Site::from_attrs(&attrs(
            json!({"server_name": "a.test", "upstream": "http://127.0.0.1:9"}),
        ))
        .unwrap();
        insta::assert_snapshot!(s.render_body(), @r"
        server {
            listen 80;
            server_name a.test;

            location / {
                proxy_pass http://127.0.0.1:9;
                proxy_set_header Host $host;
                proxy_set_header X-Real-IP $remote_addr;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
            }
        }
        ");
    }

    #[test]
    fn refuses_nginx_syntax_in_values() {
        let base = json!({"server_name": "a.test", "upstream": "http://127.0.0.1:9"});
        for (k, v) in [
            ("server_name", json!("a.test; include /etc/passwd")),
            ("server_name", json!("a{b}")),
            ("upstream", json!("http://x/$host")),
            ("upstream", json!("http://x/#y")),
            ("upstream", json!("ftp://x")),
            ("listen", json!("80;")),
            ("listen", json!("80  default_server")),
            ("client_max_body_size", json!("10q")),
            ("allow", json!(["10.0.0.0/8; deny"])),
            ("allow", json!(["all"])),
            ("tls_cert", json!("/a.pem")),
            ("websocket", json!("yes")),
        ] {
            let mut a = attrs(base.clone());
            a.insert(k.into(), v.clone());
            assert!(Site::from_attrs(&a).is_err(), "{k} = {v} accepted");
        }
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let mut a = full().to_attrs();
        a.insert("id".into(), json!("ignored"));
        a.insert("allow".into(), json!([]));
        let text = render_file("infra:p/proxy_site.app", &a, None).unwrap();
        let (owner, back) = read_back("p", &text);
        assert_eq!(owner.as_deref(), Some("proxy_site.app"));
        a.remove("id");
        assert_eq!(back, a);
        // Another project's file is not ours.
        assert_eq!(read_back("other", &text).0, None);
    }

    #[test]
    fn listen_with_ssl_round_trips_through_the_header() {
        let mut a = full().to_attrs();
        a.insert("listen".into(), json!("443 ssl"));
        let site = Site::from_attrs(&a).unwrap();
        assert!(site.render_body().contains("listen 443 ssl;\n"));
        let (_, back) = read_back(
            "p",
            &render_file("infra:p/proxy_site.app", &a, None).unwrap(),
        );
        assert_eq!(back["listen"], json!("443 ssl"));
    }

    #[test]
    fn an_edited_directive_reads_back_as_that_attribute() {
        let text = render_file("infra:p/proxy_site.app", &full().to_attrs(), None).unwrap();
        let edited = text.replace(
            "proxy_pass http://10.0.0.5:8080;",
            "proxy_pass http://10.0.0.6:8080;",
        );
        let (owner, back) = read_back("p", &edited);
        assert!(owner.is_some());
        assert_eq!(back["upstream"], json!("http://10.0.0.6:8080"));
        assert_eq!(back["server_name"], json!("app.example.com"));
    }

    #[test]
    fn lines_no_attribute_expresses_are_reported_not_hidden() {
        let text = render_file("infra:p/proxy_site.app", &full().to_attrs(), None).unwrap();
        let edited = text.replace("    deny all;\n", "    deny all;\n    return 403;\n");
        let (owner, back) = read_back("p", &edited);
        assert!(owner.is_some());
        assert!(!back.contains_key("upstream"), "{back:?}");
        assert_eq!(back["edited_lines"], json!(["+ return 403;"]));
    }

    #[test]
    fn acme_answers_are_served_on_plain_http_and_read_back() {
        let plain = attrs(
            json!({"server_name": "a.test", "upstream": "http://127.0.0.1:9", "allow": ["10.0.0.0/8"]}),
        );
        let text = render_file("infra:p/proxy_site.a", &plain, Some("/srv/acme")).unwrap();
        // Inside the allow list's server, yet open to the CA.
        assert!(
            text.contains(
                "alias /srv/acme/;\n        default_type text/plain;\n        allow all;"
            ),
            "{text}"
        );
        let (_, back) = read_back("p", &text);
        assert_eq!(back, plain);

        let mut tls = plain.clone();
        tls.remove("allow");
        tls.insert("listen".into(), json!("127.0.0.1:8443"));
        tls.insert("http_listen".into(), json!("127.0.0.1:8080"));
        tls.insert("tls_cert".into(), json!("/c/a.crt"));
        tls.insert("tls_key".into(), json!("/c/a.key"));
        let text = render_file("infra:p/proxy_site.a", &tls, Some("/srv/acme")).unwrap();
        assert!(text.contains("listen 127.0.0.1:8443 ssl;"), "{text}");
        assert!(text.contains("listen 127.0.0.1:8080;"), "{text}");
        assert!(
            text.contains("return 301 https://$host:8443$request_uri;"),
            "{text}"
        );
        assert_eq!(text.matches("alias /srv/acme/;").count(), 1, "{text}");
        let (_, back) = read_back("p", &text);
        assert_eq!(back, tls);
        // Read without the JSON line too (a site written by hand in this shape).
        let body = text
            .split_once("server {")
            .map(|(_, b)| format!("server {{{b}"))
            .unwrap();
        tls.insert("websocket".into(), json!(false));
        assert_eq!(read_back("p", &body).1, tls);
    }

    #[test]
    fn http_listen_is_for_tls_sites_on_another_port() {
        let mut a = attrs(
            json!({"server_name": "a.test", "upstream": "http://127.0.0.1:9", "http_listen": "8080"}),
        );
        assert!(Site::from_attrs(&a).unwrap_err().contains("TLS sites"));
        a.insert("tls_cert".into(), json!("/c/a.crt"));
        a.insert("tls_key".into(), json!("/c/a.key"));
        a.insert("listen".into(), json!("8080"));
        assert!(Site::from_attrs(&a)
            .unwrap_err()
            .contains("their own ports"));
    }

    #[test]
    fn hand_written_site_in_our_shape_is_readable() {
        let body = full().render_body();
        let (owner, back) = read_back("p", &body);
        assert_eq!(owner, None);
        assert_eq!(back, full().to_attrs());
        let (_, other) = read_back("p", "server { listen 80; return 204; }\n");
        assert!(other.is_empty());
    }
}
