//! Attribute facts in a clause: "4 cores", "2 more gigs", "double the memory",
//! "every 2 minutes", "port 8080", "LAN only", "with websockets", "upload limit
//! 25 MB", "ttl of 60", "answers 204", "cert at /etc/ssl/x.pem". A fact names
//! the attribute (as in the kind schema), the kinds it lives on and its value:
//! absolute, a delta or a factor.

use serde_json::Value;

use super::bounds;
use super::lex::{Kind, Tok};
use super::quantity::{self, Quantity, Unit};
use super::vocab;

#[derive(Debug, Clone, PartialEq)]
pub enum Amount {
    Set(Value),
    Delta(f64),
    Factor(f64),
    /// A number said for the attribute that it cannot take, and why (naming the
    /// value and the range): the clause is declined, nothing is guessed instead.
    Refused(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// Schema attribute, or one of the derived ones: `port` (the upstream's
    /// port), `ip` (a machine's address or an A/AAAA record's content), `lan`.
    pub attr: &'static str,
    pub kinds: &'static [&'static str],
    pub amount: Amount,
    /// Token index (within the clause) where the fact is said.
    pub pos: usize,
}

const MACHINE: &[&str] = &["container", "vm"];
const PROXY: &[&str] = &["proxy_site"];
const MONITOR: &[&str] = &["monitor"];
const DNS: &[&str] = &["dns_record"];

fn words_near(toks: &[Tok], from: usize, to: usize) -> impl Iterator<Item = (usize, &str)> {
    let to = to.min(toks.len());
    (from.min(to)..to).map(move |i| (i, toks[i].low.as_str()))
}

/// The value a request gives an attribute ("port 5000"), when it gives one
/// outright (not "2 more").
pub fn set_value<'a>(facts: &'a [Fact], attr: &str) -> Option<&'a Value> {
    facts
        .iter()
        .find(|f| f.attr == attr)
        .and_then(|f| match &f.amount {
            Amount::Set(v) => Some(v),
            _ => None,
        })
}

/// Is the word at `i` negated ("no", "not", "without", "don't", "disable", "turn off")?
pub fn negated(toks: &[Tok], i: usize) -> bool {
    negated_within(toks, i, 3)
}

/// Negated within `n` words before ("it shouldn't go through the proxy": five).
pub fn negated_within(toks: &[Tok], i: usize, n: usize) -> bool {
    let start = i.saturating_sub(n);
    // "it won't work unless websockets are on": the condition is what is wanted.
    if toks[start..i].iter().any(|t| t.is("unless")) {
        return false;
    }
    words_near(toks, start, i).any(|(_, w)| {
        matches!(
            w,
            "no" | "not"
                | "without"
                | "don't"
                | "dont"
                | "disable"
                | "disabled"
                | "never"
                | "nothing"
                | "off"
                | "shouldn't"
                | "doesn't"
                | "needn't"
                | "won't"
                | "bother"
                | "skip"
                | "omit"
                | "exclude"
        )
    }) || (toks.get(i + 1).is_some_and(|t| t.is("off") || t.is("disabled"))
        // "take nginx off admin-panel": the part is what goes, not a negation.
        && !toks[..i].iter().any(|t| t.is("take")))
}

/// The attribute word nearest a quantity of this unit kind: following words
/// first ("4 GB of RAM"), then preceding ones ("memory to 2 GB").
fn size_attr(toks: &[Tok], q: &Quantity) -> (&'static str, &'static [&'static str]) {
    let pick = |w: &str| -> Option<(&'static str, &'static [&'static str])> {
        match vocab::attribute(w) {
            Some((_, "memory")) => Some(("memory", MACHINE)),
            Some((_, "disk")) => Some(("disk", MACHINE)),
            Some((_, "client_max_body_size")) => Some(("client_max_body_size", PROXY)),
            _ => None,
        }
    };
    let after = words_near(toks, q.end, q.end + 3).find_map(|(_, w)| pick(w));
    let before = (q.start.saturating_sub(5)..q.start)
        .rev()
        .find_map(|i| pick(&toks[i].low));
    after
        .or(before)
        .or_else(|| toks.iter().find_map(|t| pick(&t.low)))
        .unwrap_or(("memory", MACHINE))
}

/// Relative or absolute, from the words around a quantity.
fn amount(toks: &[Tok], q: &Quantity, verb_sign: f64, value: f64) -> Amount {
    let around = |w: &[&str]| {
        words_near(toks, q.start.saturating_sub(1), q.end + 1).any(|(_, x)| w.contains(&x))
    };
    let before = |w: &str| q.start > 0 && toks[q.start - 1].is(w);
    if before("to") || before("=") {
        return Amount::Set(num(value));
    }
    if toks[q.start].is("another")
        || around(&["more", "extra", "additional", "another", "second", "third"])
    {
        return Amount::Delta(value);
    }
    if around(&["less", "fewer"]) || toks[q.end.min(toks.len())..].iter().any(|t| t.is("away")) {
        return Amount::Delta(-value);
    }
    if before("by") && verb_sign != 0.0 {
        return Amount::Delta(verb_sign * value);
    }
    if verb_sign > 0.0 && toks.iter().take(q.start).any(|t| t.is("add")) {
        return Amount::Delta(value);
    }
    if verb_sign < 0.0
        && toks
            .iter()
            .take(q.start)
            .any(|t| t.is("remove") || t.is("take"))
    {
        return Amount::Delta(-value);
    }
    Amount::Set(num(value))
}

fn num(v: f64) -> Value {
    match quantity::whole(v) {
        Some(i) => Value::from(i),
        None => Value::from(v),
    }
}

/// The sign a verb gives a bare "by N": increase +, decrease −.
pub fn verb_sign(toks: &[Tok]) -> f64 {
    for t in toks {
        match t.low.as_str() {
            "add" | "increase" | "raise" | "grow" | "bump" | "extend" | "expand" | "give" => {
                return 1.0
            }
            "reduce" | "lower" | "decrease" | "cut" | "shrink" | "remove" | "take" => return -1.0,
            _ => {}
        }
    }
    0.0
}

pub fn extract(toks: &[Tok], mention_spans: &[(usize, usize)]) -> Vec<Fact> {
    let in_mention = |i: usize| mention_spans.iter().any(|(s, e)| i >= *s && i < *e);
    let mut out = Vec::new();
    let sign = verb_sign(toks);
    let prev = |i: usize, k: usize| -> &str {
        if i >= k {
            toks[i - k].low.as_str()
        } else {
            ""
        }
    };
    let mut loose_sizes = 0;
    for q in quantity::all(toks) {
        if in_mention(q.start) {
            continue;
        }
        // "ubuntu 22.04", "rocky linux 9", "postgres 16": a version, not a size.
        if q.start > 0
            && (vocab::is_image_word(&toks[q.start - 1].low)
                || toks[q.start - 1].is("linux")
                || toks[q.start - 1].is("version")
                || toks[q.start - 1].is("v"))
        {
            continue;
        }
        let p1 = prev(q.start, 1);
        let p2 = prev(q.start, 2);
        let p3 = prev(q.start, 3);
        let said: Vec<&str> = toks[q.start..q.end.min(toks.len())]
            .iter()
            .map(|t| t.raw.as_str())
            .collect();
        let said = said.join(" ");
        let fact = |attr: &'static str, kinds: &'static [&'static str], amount: Amount| Fact {
            attr,
            kinds,
            amount: match bounds::problem(attr, kinds, &amount, q.value, &said) {
                Some(why) => Amount::Refused(why),
                None => amount,
            },
            pos: q.start,
        };
        match q.unit {
            Some(Unit::Cores) => out.push(fact("cores", MACHINE, amount(toks, &q, sign, q.value))),
            Some(Unit::Size(_)) if q.unit_word != "m" || !is_duration_context(toks, &q) => {
                let mib = q.mib().unwrap_or(0.0);
                // Sizes with no attribute word near ("4 vCPU / 8 GB / 100 GB"): memory, then disk.
                let anywhere: Vec<&str> = toks
                    .iter()
                    .filter_map(|t| match vocab::attribute(&t.low) {
                        Some((_, a @ ("memory" | "disk" | "client_max_body_size"))) => Some(a),
                        _ => None,
                    })
                    .collect();
                // Is the clause's size word already near another size ("2gb & … 10gb of disk")?
                let claimed = quantity::all(toks)
                    .iter()
                    .any(|o| o.start != q.start && o.mib().is_some() && has_size_word(toks, o));
                let (attr, kinds) = if has_size_word(toks, &q) {
                    size_attr(toks, &q)
                } else if !anywhere.is_empty()
                    && anywhere.iter().all(|a| *a == anywhere[0])
                    && !claimed
                {
                    // One kind of size word in the clause ("uploading … limit 10m -> 100mb").
                    size_attr(toks, &q)
                } else {
                    // Sizes with no word of their own ("4 vCPU / 8 GB / 100 GB"): memory, then disk.
                    loose_sizes += 1;
                    if loose_sizes == 2 {
                        ("disk", MACHINE)
                    } else {
                        ("memory", MACHINE)
                    }
                };
                let value = match attr {
                    "disk" => (mib / 1024.0).ceil(),
                    "client_max_body_size" => {
                        // Checked in MiB, before it becomes nginx's text ("100m").
                        let checked = fact(attr, kinds, Amount::Set(num(mib.ceil())));
                        if matches!(checked.amount, Amount::Refused(_)) {
                            out.push(checked);
                            continue;
                        }
                        let m = mib.round() as i64;
                        let text = if m % 1024 == 0 && m > 0 {
                            format!("{}g", m / 1024)
                        } else {
                            format!("{m}m")
                        };
                        out.push(fact(attr, kinds, Amount::Set(Value::from(text))));
                        continue;
                    }
                    _ => mib,
                };
                out.push(fact(attr, kinds, amount(toks, &q, sign, value)));
            }
            // "getting 413s": a plural, not seconds, unless the clause talks about time.
            Some(_)
                if q.unit_word == "s"
                    && !toks.iter().any(|t| {
                        matches!(
                            t.low.as_str(),
                            "every" | "interval" | "ttl" | "timeout" | "after" | "within"
                        )
                    }) => {}
            Some(_) => {
                let secs = q.seconds().unwrap_or(q.value);
                // Durations are said as values ("every 5 min"), rarely as increments.
                let relative = words_near(toks, q.start.saturating_sub(1), q.end + 1)
                    .any(|(_, w)| matches!(w, "more" | "less" | "longer" | "shorter"));
                let ttl = toks.iter().any(|t| t.is("ttl"));
                let timeout = toks.iter().any(|t| t.is("timeout"));
                let (attr, kinds) = if ttl {
                    ("ttl", DNS)
                } else if timeout && !toks.iter().any(|t| t.is("every")) {
                    ("timeout", MONITOR)
                } else {
                    ("interval", MONITOR)
                };
                let a = if relative {
                    amount(toks, &q, sign, secs)
                } else {
                    Amount::Set(num(secs))
                };
                out.push(fact(attr, kinds, a));
            }
            None => {
                let n = q.value;
                let int = quantity::whole(n);
                let status_word =
                    words_near(toks, q.start.saturating_sub(4), q.start).any(|(_, w)| {
                        matches!(
                            w,
                            "answers"
                                | "returns"
                                | "responds"
                                | "status"
                                | "code"
                                | "answer"
                                | "return"
                                | "expect"
                                | "expects"
                                | "gives"
                                | "wants"
                                | "want"
                                | "sends"
                                | "replies"
                        )
                    });
                // An out-of-range port is kept, to be declined by name ("port -5").
                if matches!(p1, "port" | "port:")
                    || (matches!(p1, "on" | "listens") && int.is_some() && n.fract() == 0.0)
                {
                    out.push(fact("port", PROXY, Amount::Set(num(n))));
                } else if matches!(p1, "ttl")
                    || (p1 == "of" && p2 == "ttl")
                    || (p1 == "to" && p2 == "ttl")
                {
                    out.push(fact("ttl", DNS, Amount::Set(num(n))));
                } else if matches!(p1, "priority" | "prio" | "preference" | "pref")
                    || (matches!(p1, "of" | "to") && matches!(p2, "priority" | "prio"))
                {
                    out.push(fact("priority", DNS, Amount::Set(num(n))));
                } else if p1 == "weight" {
                    out.push(fact("weight", DNS, Amount::Set(num(n))));
                } else if status_word && int.is_some_and(|s| (100..=599).contains(&s)) {
                    out.push(fact("expect_status", MONITOR, Amount::Set(num(n))));
                } else if p1 == "every" {
                    out.push(fact("interval", MONITOR, Amount::Set(num(n))));
                } else if let Some((attr, kinds)) = attr_before(toks, q.start) {
                    // "priority to 30", "shrink its disk to 15", "memory to 4096".
                    let value = if attr == "memory" && n < 64.0 {
                        n * 1024.0
                    } else {
                        n
                    };
                    out.push(fact(attr, kinds, amount(toks, &q, sign, value)));
                } else if matches!(p3, "port") && p1 == "to" {
                    out.push(fact("port", PROXY, Amount::Set(num(n))));
                }
            }
        }
    }
    for (i, t) in toks.iter().enumerate() {
        if in_mention(i) {
            continue;
        }
        let fact = |attr, kinds, amount| Fact {
            attr,
            kinds,
            amount,
            pos: i,
        };
        match &t.kind {
            Kind::Assign => {
                if let Some(p) = t.low.strip_prefix("port=") {
                    if let Ok(n) = p.parse::<f64>() {
                        out.push(fact("port", PROXY, port(n, &t.raw)));
                    }
                }
            }
            // ".30": the last part of an address in the project's pool ("move it to .30").
            Kind::Word
                if t.low.starts_with('.')
                    && t.low.len() <= 4
                    && t.low[1..].parse::<u8>().is_ok()
                    && i > 0
                    && matches!(toks[i - 1].low.as_str(), "to" | "at" | ">") =>
            {
                out.push(fact(
                    "ip",
                    &["container", "vm", "dns_record"],
                    Amount::Set(Value::from(t.raw.clone())),
                ));
            }
            Kind::Qty(n, u) if u == "x" => {
                // "2x the memory".
                if let Some((kinds, attr)) = toks[i + 1..]
                    .iter()
                    .take(4)
                    .find_map(|w| vocab::attribute(&w.low))
                {
                    out.push(fact(attr, kinds, Amount::Factor(*n)));
                }
            }
            // ":8080", and ":99999" too: it is declined by name, not ignored.
            Kind::Word if t.low.starts_with(':') && t.low[1..].parse::<u64>().is_ok() => {
                let n: f64 = t.low[1..].parse().unwrap_or(f64::NAN);
                out.push(fact("port", PROXY, port(n, &t.raw)));
            }
            Kind::Ip(_) | Kind::Cidr => out.push(fact(
                "ip",
                &["container", "vm", "dns_record"],
                Amount::Set(Value::from(t.raw.clone())),
            )),
            Kind::Path => {
                let key = (i.saturating_sub(3)..i)
                    .rev()
                    .find_map(|j| match toks[j].low.as_str() {
                        "key" | "privkey" => Some("tls_key"),
                        "cert" | "certificate" | "crt" | "chain" | "fullchain" => Some("tls_cert"),
                        _ => None,
                    });
                let key = key.or_else(|| {
                    let l = &t.low;
                    (l.ends_with(".key"))
                        .then_some("tls_key")
                        .or((l.ends_with(".pem") || l.ends_with(".crt")).then_some("tls_cert"))
                });
                if let Some(k) = key {
                    out.push(fact(k, PROXY, Amount::Set(Value::from(t.raw.clone()))));
                }
            }
            Kind::Image => {
                // "image to X", or anything with a tag ("ghcr.io/org/app:3.15.0", "redis:7").
                let image_word = (i.saturating_sub(3)..i)
                    .any(|j| matches!(toks[j].low.as_str(), "image" | "version" | "tag" | "using"));
                let spf = ["include:", "ip4:", "ip6:", "a:", "mx:", "exists:"]
                    .iter()
                    .any(|p| t.low.starts_with(p));
                let tagged = !spf
                    && t.low.rsplit_once(':').is_some_and(|(name, tag)| {
                        !tag.is_empty() && !tag.contains('/') && !name.is_empty()
                    });
                let registry = !spf
                    && t.low.contains('/')
                    && t.low.split('/').next().is_some_and(|r| r.contains('.'));
                if image_word || tagged || registry {
                    out.push(fact(
                        "image",
                        MACHINE,
                        Amount::Set(Value::from(t.raw.clone())),
                    ));
                } else if t
                    .low
                    .split('/')
                    .any(|p| matches!(p, "office" | "vpn" | "lan" | "internal"))
                {
                    // "office/vpn only": who may reach it.
                    out.push(fact("lan", PROXY, Amount::Set(Value::Bool(true))));
                }
            }
            Kind::Word => match t.low.as_str() {
                "https" | "ssl" | "tls" | "letsencrypt" | "encrypt" if https_context(toks, i) => {
                    out.push(fact(
                        "https",
                        PROXY,
                        Amount::Set(Value::Bool(!negated(toks, i))),
                    ));
                }
                "websocket" | "websockets" | "ws" => {
                    out.push(fact(
                        "websocket",
                        PROXY,
                        Amount::Set(Value::Bool(!negated(toks, i))),
                    ));
                }
                "lan-only" | "lan" | "intranet" | "internal" | "private" | "internally"
                    if lan_context(toks, i) =>
                {
                    out.push(fact(
                        "lan",
                        PROXY,
                        Amount::Set(Value::Bool(!negated(toks, i))),
                    ));
                }
                "network" | "office" | "vpn" | "lan" | "house" | "home" | "inside" | "school"
                | "building"
                    if i >= 2 && toks[..i].iter().rev().take(6).any(|w| w.is("only")) =>
                {
                    out.push(fact("lan", PROXY, Amount::Set(Value::Bool(true))));
                }
                "internet" | "public" | "publicly" | "everyone" | "world" | "everybody"
                | "outside"
                    if !toks.iter().any(|t| t.is("ip") || t.is("address")) =>
                {
                    out.push(fact(
                        "lan",
                        PROXY,
                        Amount::Set(Value::Bool(negated(toks, i))),
                    ));
                }
                "grey-cloud" | "gray-cloud" | "grey" | "gray"
                    if toks
                        .iter()
                        .any(|t| t.low.contains("cloud") || t.low.contains("proxy"))
                        || t.low.ends_with("cloud") =>
                {
                    out.push(fact("proxied", DNS, Amount::Set(Value::Bool(false))));
                }
                "orange-cloud" => out.push(fact("proxied", DNS, Amount::Set(Value::Bool(true)))),
                "lock"
                    if toks.get(i + 1).is_some_and(|n| n.is("down"))
                        || toks.iter().any(|t| t.is("down")) =>
                {
                    out.push(fact("lan", PROXY, Amount::Set(Value::Bool(true))));
                }
                w if w.contains('/')
                    && w.split('/')
                        .any(|p| matches!(p, "office" | "vpn" | "lan" | "internal")) =>
                {
                    out.push(fact("lan", PROXY, Amount::Set(Value::Bool(true))));
                }
                "proxying" | "proxied" | "orange" | "cdn" => {
                    let off = negated(toks, i)
                        || toks.iter().any(|t| {
                            matches!(t.low.as_str(), "off" | "disable" | "grey" | "gray" | "stop")
                        });
                    out.push(fact("proxied", DNS, Amount::Set(Value::Bool(!off))));
                }
                "proxy" if toks.iter().any(|t| t.low.starts_with("cloudflare")) => {
                    let off = negated(toks, i)
                        || toks
                            .iter()
                            .any(|t| matches!(t.low.as_str(), "off" | "disable"));
                    out.push(fact("proxied", DNS, Amount::Set(Value::Bool(!off))));
                }
                "double" | "twice" | "doubled" | "halve" | "halved" | "triple" | "tripled" => {
                    let f = match t.low.as_str() {
                        "halve" | "halved" => 0.5,
                        "triple" | "tripled" => 3.0,
                        _ => 2.0,
                    };
                    let target = toks[i + 1..]
                        .iter()
                        .enumerate()
                        .take(5)
                        .find_map(|(k, w)| vocab::attribute(&w.low).map(|a| (k, a)))
                        .or_else(|| {
                            toks[..i]
                                .iter()
                                .rev()
                                .take(4)
                                .find_map(|w| vocab::attribute(&w.low).map(|a| (0, a)))
                        });
                    if let Some((_, (kinds, attr))) = target {
                        if matches!(
                            attr,
                            "memory" | "cores" | "disk" | "interval" | "ttl" | "timeout"
                        ) {
                            out.push(fact(attr, kinds, Amount::Factor(f)));
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    prefer(out, toks)
}

/// Why the first refused fact was refused.
pub fn refused(facts: &[Fact]) -> Option<&str> {
    facts.iter().find_map(|f| match &f.amount {
        Amount::Refused(why) => Some(why.as_str()),
        _ => None,
    })
}

/// A port as said, or why it cannot be one.
fn port(n: f64, said: &str) -> Amount {
    let amount = Amount::Set(num(n));
    match bounds::problem("port", PROXY, &amount, n, said) {
        Some(why) => Amount::Refused(why),
        None => amount,
    }
}

/// Is an attribute word for sizes within a few words of this quantity?
fn has_size_word(toks: &[Tok], q: &Quantity) -> bool {
    let near = |w: &str| {
        matches!(
            vocab::attribute(w),
            Some((_, "memory" | "disk" | "client_max_body_size"))
        )
    };
    words_near(toks, q.end, q.end + 3).any(|(_, w)| near(w))
        || (q.start.saturating_sub(5)..q.start).any(|i| near(&toks[i].low))
}

/// "5m" is five minutes after "every", else five mebibytes.
fn is_duration_context(toks: &[Tok], q: &Quantity) -> bool {
    q.start > 0
        && matches!(
            toks[q.start - 1].low.as_str(),
            "every" | "ttl" | "interval" | "timeout"
        )
        || toks.iter().any(|t| t.is("ttl") || t.is("interval"))
}

/// "LAN only", "internal", "make it private": not "an internal DNS record".
/// "with HTTPS", "over TLS", "and a Let's Encrypt certificate", "SSL enabled":
/// said of how a new site is served, not a word in passing ("debug tls").
pub fn https_context(toks: &[Tok], i: usize) -> bool {
    let w = toks[i].low.as_str();
    if !matches!(w, "https" | "ssl" | "tls" | "letsencrypt" | "encrypt") {
        return false;
    }
    let prev = |k: usize| if i >= k { toks[i - k].low.as_str() } else { "" };
    if w == "encrypt" && !matches!(prev(1), "let" | "let's" | "lets") {
        return false;
    }
    let intro = (1..=4).any(|k| {
        matches!(
            prev(k),
            "with" | "over" | "via" | "using" | "plus" | "and" | "behind" | "enable" | "enabled"
        )
    });
    let next = toks.get(i + 1).map(|t| t.low.as_str()).unwrap_or("");
    let after = matches!(next, "enabled" | "on" | "certificate" | "cert" | "only");
    // A certificate given by its path exists already: that is tls_cert's.
    let has_path = toks.iter().any(|t| t.kind == Kind::Path);
    (intro || after) && !has_path
}

fn lan_context(toks: &[Tok], i: usize) -> bool {
    let w = toks[i].low.as_str();
    if w == "lan-only" || w == "intranet" {
        return true;
    }
    let next = toks.get(i + 1).map(|t| t.low.as_str()).unwrap_or("");
    let prev = if i > 0 { toks[i - 1].low.as_str() } else { "" };
    // "an internal chat service": said of the new thing.
    if toks[i + 1..].iter().take(2).any(|t| {
        matches!(
            t.low.as_str(),
            "service" | "app" | "site" | "website" | "dashboard" | "tool"
        )
    }) {
        return true;
    }
    next == "only"
        || prev == "only"
        || next.is_empty()
        || matches!(next, "," | "." | "and" | "-")
        || matches!(prev, "it" | "is" | "be" | "them" | "stay" | "keep" | "make")
}

/// The attribute named just before a bare number: "priority to 30", "disk to 15".
fn attr_before(toks: &[Tok], i: usize) -> Option<(&'static str, &'static [&'static str])> {
    (i.saturating_sub(4)..i)
        .rev()
        .find_map(|j| match vocab::attribute(&toks[j].low) {
            Some((kinds, attr))
                if matches!(
                    attr,
                    "cores"
                        | "memory"
                        | "disk"
                        | "ttl"
                        | "priority"
                        | "interval"
                        | "timeout"
                        | "expect_status"
                ) =>
            {
                Some((attr, kinds))
            }
            _ => None,
        })
}

/// One value per attribute: the one after "to" wins, a contrasted one ("not
/// 204", "instead of 30", "from 30") loses, else the last said.
fn prefer(facts: Vec<Fact>, toks: &[Tok]) -> Vec<Fact> {
    let score = |f: &Fact| -> i32 {
        let p = |k: usize| {
            if f.pos >= k {
                toks[f.pos - k].low.as_str()
            } else {
                ""
            }
        };
        let contrast = vocab::is_contrast(p(1))
            || (vocab::is_contrast(p(2)) && p(2) != "from")
            || p(1) == "than"
            || toks
                .iter()
                .take(f.pos)
                .any(|t| matches!(t.low.as_str(), "can't" | "cannot"))
                && !toks.iter().take(f.pos).any(|t| verb_like(&t.low));
        if p(1) == "to" || p(1) == ">" || p(1) == "now" {
            2
        } else if contrast {
            0
        } else {
            1
        }
    };
    let mut out: Vec<Fact> = Vec::new();
    for f in facts {
        match out
            .iter()
            .position(|o| o.attr == f.attr && o.kinds == f.kinds && f.attr != "ip")
        {
            Some(k) if score(&f) >= score(&out[k]) => out[k] = f,
            Some(_) => {}
            None => out.push(f),
        }
    }
    out.retain(|f| score(f) > 0 || out_single(f));
    out
}

fn out_single(_: &Fact) -> bool {
    false
}

fn verb_like(w: &str) -> bool {
    vocab::verb_at(&[w], 0).is_some()
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;
    use serde_json::json;

    fn facts(s: &str) -> Vec<(String, Amount)> {
        extract(&lex(s, &[]), &[])
            .into_iter()
            .map(|f| (f.attr.to_string(), f.amount))
            .collect()
    }

    fn set(attr: &str, v: Value) -> (String, Amount) {
        (attr.to_string(), Amount::Set(v))
    }

    #[test]
    fn sizes_go_to_the_nearest_attribute() {
        assert_eq!(
            facts("deploy x with 4 cores, 4 GiB RAM and a 100 GB disk"),
            [
                set("cores", json!(4)),
                set("memory", json!(4096)),
                set("disk", json!(100))
            ]
        );
        assert_eq!(
            facts("allow uploads up to 50 MB"),
            [set("client_max_body_size", json!("50m"))]
        );
        assert_eq!(facts("Bump its RAM to 4G"), [set("memory", json!(4096))]);
    }

    #[test]
    fn relative_amounts() {
        assert_eq!(
            facts("give it 2 more cores"),
            [("cores".into(), Amount::Delta(2.0))]
        );
        assert_eq!(
            facts("add 512 MB of RAM to it"),
            [("memory".into(), Amount::Delta(512.0))]
        );
        assert_eq!(
            facts("it needs 20 GB more disk"),
            [("disk".into(), Amount::Delta(20.0))]
        );
        assert_eq!(
            facts("take one core away from it"),
            [("cores".into(), Amount::Delta(-1.0))]
        );
        assert_eq!(
            facts("double its memory"),
            [("memory".into(), Amount::Factor(2.0))]
        );
        assert_eq!(
            facts("halve the memory"),
            [("memory".into(), Amount::Factor(0.5))]
        );
        assert_eq!(
            facts("reduce its memory to 2 GB"),
            [set("memory", json!(2048))]
        );
    }

    #[test]
    fn durations_statuses_ports_and_contrasts() {
        assert_eq!(
            facts("check it every 2 minutes"),
            [set("interval", json!(120))]
        );
        assert_eq!(
            facts("check it every 15 seconds instead of 30"),
            [set("interval", json!(15))]
        );
        assert_eq!(facts("a TTL of 10 minutes"), [set("ttl", json!(600))]);
        assert_eq!(
            facts("its health page answers 204"),
            [set("expect_status", json!(204))]
        );
        assert_eq!(
            facts("returns 200 now, not 204"),
            [set("expect_status", json!(200))]
        );
        assert_eq!(facts("it listens on 8080"), [set("port", json!(8080))]);
        assert_eq!(
            facts("the app is on port 9090 now"),
            [set("port", json!(9090))]
        );
        assert_eq!(
            facts("can't upload their 80 MB briefs, raise the upload limit to 100 MB"),
            [set("client_max_body_size", json!("100m"))]
        );
    }

    #[test]
    fn flags_and_negations() {
        assert_eq!(
            facts("with websockets enabled"),
            [set("websocket", json!(true))]
        );
        assert_eq!(facts("make it LAN only"), [set("lan", json!(true))]);
        assert_eq!(facts("with HTTPS"), [set("https", json!(true))]);
        assert_eq!(
            facts("and a Let's Encrypt certificate"),
            [set("https", json!(true))]
        );
        assert!(facts("need to debug tls at the origin").is_empty());
        assert_eq!(
            facts("open it up to the internet"),
            [set("lan", json!(false))]
        );
        assert_eq!(
            facts("turn off cloudflare proxying"),
            [set("proxied", json!(false))]
        );
    }
}
