//! Numbers a request gives must be usable as said. A value outside what its
//! attribute allows ("-5 cores", "NaN cores", "ttl -3", "inf GB of memory", a
//! port 99999) is declined, naming the value and the range: never dropped in
//! favour of a default, never clamped.

use super::facts::Amount;
use super::lex::{Kind, Tok};
use infra_core::spec::schema::{self, Ty};

/// What an attribute allows: inclusive bounds and the unit they are in.
pub struct Range {
    pub min: i64,
    pub max: i64,
    pub unit: &'static str,
}

impl Range {
    fn show(&self, attr: &str) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!("{} can be {} to {}{unit}", name(attr), self.min, self.max)
    }
}

/// The range of a numeric attribute on the first of `kinds` that has it.
pub fn range(attr: &str, kinds: &[&str]) -> Option<Range> {
    match attr {
        // The port of an upstream URL; a body size is said in MiB.
        "port" => {
            return Some(Range {
                min: 1,
                max: 65_535,
                unit: "",
            })
        }
        "client_max_body_size" => {
            return Some(Range {
                min: 1,
                max: 4_194_304,
                unit: "MiB",
            })
        }
        _ => {}
    }
    kinds.iter().find_map(|k| {
        let a = schema::kind(k)?.attr(attr)?;
        let Ty::Int { min, max } = a.ty else {
            return None;
        };
        let unit = match attr {
            "memory" => "MiB",
            "disk" => "GB",
            "ttl" | "interval" | "timeout" => "seconds",
            _ => "",
        };
        Some(Range { min, max, unit })
    })
}

fn name(attr: &str) -> &str {
    match attr {
        "expect_status" => "the expected status",
        "client_max_body_size" => "the upload limit",
        other => other,
    }
}

/// Why an amount said as `said` (the words of the request, raw value `raw`)
/// cannot be used for `attr`, or `None` when it can.
pub fn problem(
    attr: &str,
    kinds: &[&str],
    amount: &Amount,
    raw: f64,
    said: &str,
) -> Option<String> {
    let r = range(attr, kinds)?;
    if !raw.is_finite() {
        return Some(format!("`{said}` is not a number ({})", r.show(attr)));
    }
    let out = |what: &str| Some(format!("`{said}` is {what} ({})", r.show(attr)));
    match amount {
        Amount::Set(v) => match v.as_f64() {
            Some(n) if n.fract() != 0.0 && n.abs() < 1e15 => out("not a whole number"),
            Some(n) if n < r.min as f64 || n > r.max as f64 => out("out of range"),
            Some(_) => None,
            // Not representable: too large for any number infra keeps.
            None if v.is_null() => out("out of range"),
            None => None,
        },
        Amount::Delta(d) if !d.is_finite() || d.abs() > r.max as f64 => out("out of range"),
        Amount::Factor(f) if !f.is_finite() || *f <= 0.0 => out("not a factor that can apply"),
        _ => None,
    }
}

/// A port in a URL or `IP:port` that no service can listen on ("http://10.0.0.5:99999").
pub fn bad_port(t: &Tok) -> Option<String> {
    let authority = match t.kind {
        Kind::Url => {
            let rest = t.raw.split_once("://")?.1;
            rest.split(['/', '?', '#']).next()?
        }
        Kind::Image => t.raw.as_str(),
        _ => return None,
    };
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, rest) = v6.split_once(']')?;
            (host, rest.strip_prefix(':')?)
        }
        None => hostport.rsplit_once(':')?,
    };
    // "redis:7" is an image and its tag; an address before the colon makes it a port.
    if port.is_empty() || t.kind == Kind::Image && host.parse::<std::net::IpAddr>().is_err() {
        return None;
    }
    let range = Range {
        min: 1,
        max: 65_535,
        unit: "",
    };
    let what = match port.parse::<u64>() {
        Ok(p) if (1..=65_535).contains(&p) => return None,
        Ok(_) => "out of range",
        Err(_) => "not a number",
    };
    Some(format!(
        "the port `{port}` in `{}` is {what} ({})",
        t.raw,
        range.show("port")
    ))
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;
    use serde_json::json;

    #[test]
    fn values_outside_the_schema_range_are_named() {
        let cores = ["container", "vm"];
        let p = |a: Amount, raw: f64| problem("cores", &cores, &a, raw, "x cores");
        assert!(p(Amount::Set(json!(4)), 4.0).is_none());
        assert!(p(Amount::Set(json!(-5)), -5.0)
            .unwrap()
            .contains("out of range (cores can be 1 to 512)"));
        assert!(p(Amount::Set(json!(null)), f64::NAN)
            .unwrap()
            .contains("not a number"));
        assert!(p(Amount::Set(json!(1e308)), 1e308).is_some());
        assert!(p(Amount::Delta(-2.0), 2.0).is_none(), "two fewer cores");
        assert!(p(Amount::Factor(2.0), 2.0).is_none());
        assert!(
            problem("ttl", &["dns_record"], &Amount::Set(json!(-3)), -3.0, "-3")
                .unwrap()
                .contains("1 to 604800 seconds")
        );
    }

    #[test]
    fn ports_in_urls() {
        let tok = |s: &str| lex(s, &[]).remove(0);
        assert!(bad_port(&tok("http://10.0.0.5:8080/x")).is_none());
        assert!(bad_port(&tok("http://10.0.0.5/x")).is_none());
        assert!(bad_port(&tok("redis:7")).is_none());
        assert!(bad_port(&tok("http://[fd00::5]:8080")).is_none());
        let m = bad_port(&tok("http://10.0.0.5:99999")).unwrap();
        assert!(m.contains("`99999`") && m.contains("1 to 65535"), "{m}");
        assert!(bad_port(&tok("https://app.example.com:0/")).is_some());
        assert!(bad_port(&tok("10.0.0.5:70000")).is_some());
        assert!(bad_port(&tok("http://10.0.0.5:80a/"))
            .unwrap()
            .contains("not a number"));
    }
}
