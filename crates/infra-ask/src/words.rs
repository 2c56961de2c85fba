//! Words of a request: normalisation, tokens, and the small vocabularies the
//! offline interpreter understands (verbs, units, filler), with typo tolerance.

use infra_core::util::edit_distance;

/// What a request wants done, from its verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Update,
    Remove,
}

const CREATE: &[&str] = &[
    "create",
    "add",
    "deploy",
    "spin up",
    "set up",
    "setup",
    "launch",
    "stand up",
    "make",
    "provision",
    "new",
    "build",
    "start",
    "run",
    "install",
    "bring up",
    "expose",
    "publish",
    "point",
    "monitor",
    "watch",
    "route",
    "host",
    "proxy",
    "check",
    "register",
];
const UPDATE: &[&str] = &[
    "resize", "bump", "give", "increase", "scale", "set", "change", "upgrade", "grow", "raise",
    "reduce", "lower", "shrink", "decrease", "allocate", "double",
];
const REMOVE: &[&str] = &[
    "remove",
    "delete",
    "tear down",
    "teardown",
    "destroy",
    "decommission",
    "get rid of",
    "drop",
    "kill",
    "nuke",
    "take down",
    "wipe",
    "purge",
    "retire",
    "deprovision",
    "uninstall",
];

/// Words that carry no meaning for the interpreter.
pub const FILLER: &[&str] = &[
    "please", "pls", "plz", "kindly", "could", "can", "would", "will", "you", "i", "i'd", "id",
    "we", "we'd", "like", "want", "need", "to", "me", "for", "a", "an", "the", "my", "our", "some",
    "thanks", "thank", "hey", "hi", "hello", "just", "quickly", "also", "and", "it", "its", "it's",
    "that", "this", "of", "with", "on", "at", "in", "new", "us", "let's", "lets", "go", "ahead",
    "ok", "okay", "so", "now", "be", "is", "are", "there", "do", "help",
];

/// Every word the interpreter treats specially, for typo correction.
fn vocabulary() -> impl Iterator<Item = &'static str> {
    CREATE
        .iter()
        .chain(UPDATE)
        .chain(REMOVE)
        .copied()
        .filter(|w| !w.contains(' '))
        .chain([
            "service",
            "server",
            "container",
            "memory",
            "cores",
            "core",
            "port",
            "record",
            "proxy",
            "reverse",
            "monitor",
            "called",
            "named",
            "disk",
            "storage",
            "accessible",
            "available",
            "reachable",
            "internal",
            "public",
            "gigabytes",
            "megabytes",
            "cpus",
            "processors",
            "application",
            "website",
            "scanner",
            "database",
        ])
}

/// Lowercase, with quotes and dashes unified as the grammar's lexer does.
pub fn normalise(text: &str) -> String {
    super::grammar::lex::normalise(text).to_lowercase()
}

/// Split into tokens, keeping host names, addresses, URLs and `4gb` together.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| {
        c.is_whitespace() || c == ',' || c == '!' || c == '?' || c == '(' || c == ')' || c == '"'
    })
    .map(|t| t.trim_end_matches(['.', ';', ':']).trim_start_matches('\''))
    // "the api scanner's disk" names the api scanner.
    .map(|t| t.strip_suffix("'s").unwrap_or(t))
    .filter(|t| !t.is_empty())
    .map(str::to_string)
    .collect()
}

/// Correct small typos of vocabulary words (never of names, numbers or host names).
pub fn correct(tokens: &mut [String]) {
    let vocab: Vec<&str> = vocabulary().collect();
    for i in 0..tokens.len() {
        // A name the user gives ("called builder") is never "corrected".
        if i > 0 && ["called", "named", "as"].contains(&tokens[i - 1].as_str()) {
            continue;
        }
        let t = &mut tokens[i];
        if t.len() < 4
            || !t.chars().all(|c| c.is_ascii_lowercase())
            || vocab.contains(&t.as_str())
            || FILLER.contains(&t.as_str())
        {
            continue;
        }
        let max = if t.len() >= 8 { 2 } else { 1 };
        if let Some((d, w)) = vocab
            .iter()
            .map(|w| (edit_distance(t, w), *w))
            .min_by_key(|(d, _)| *d)
        {
            if d <= max && w.len() >= 4 {
                *t = w.to_string();
            }
        }
    }
}

/// The verb class of a request: the first verb found (so "create … and remove …" is create).
pub fn verb(tokens: &[String]) -> Option<Verb> {
    let joined = format!(" {} ", tokens.join(" "));
    let mut best: Option<(usize, Verb)> = None;
    for (list, v) in [
        (CREATE, Verb::Create),
        (UPDATE, Verb::Update),
        (REMOVE, Verb::Remove),
    ] {
        for w in list {
            if let Some(pos) = joined.find(&format!(" {w} ")) {
                if best.is_none_or(|(p, _)| pos < p) {
                    best = Some((pos, v));
                }
            }
        }
    }
    best.map(|(_, v)| v)
}

/// Is this token one of the verbs (any class)?
pub fn is_verb(t: &str) -> bool {
    CREATE.contains(&t)
        || UPDATE.contains(&t)
        || REMOVE.contains(&t)
        || [
            "up", "down", "rid", "of", "get", "tear", "spin", "stand", "bring", "take",
        ]
        .contains(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        let mut t = tokens(&normalise(s));
        correct(&mut t);
        t
    }

    #[test]
    fn verbs_with_typos() {
        assert_eq!(
            verb(&toks("Pleese creat a new service")),
            Some(Verb::Create)
        );
        assert_eq!(verb(&toks("tear down the api scanner")), Some(Verb::Remove));
        assert_eq!(verb(&toks("Give the db 4 cores")), Some(Verb::Update));
        assert_eq!(verb(&toks("Delte grafana")), Some(Verb::Remove));
        assert_eq!(verb(&toks("hello there")), None);
    }

    #[test]
    fn tokens_keep_hosts_and_units() {
        assert_eq!(
            toks("Deploy it at api.example.com, on port 3000!"),
            [
                "deploy",
                "it",
                "at",
                "api.example.com",
                "on",
                "port",
                "3000"
            ]
        );
        assert_eq!(toks("4GB RAM"), ["4gb", "ram"]);
    }
}
