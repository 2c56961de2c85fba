//! Secrets recognised by their shape, not by the name of the key that holds them:
//! API tokens with a known prefix, AWS key ids, chat webhooks, passwords inside
//! URLs, PEM private keys. Validate refuses them in any string of the spec, and
//! `ask` cuts them out of a request before it goes anywhere.

use std::ops::Range;

/// Token prefixes and the least number of characters after them.
const PREFIXES: &[(&str, usize, &str)] = &[
    ("sk-ant-", 16, "an Anthropic API key"),
    ("github_pat_", 16, "a GitHub token"),
    ("ghp_", 16, "a GitHub token"),
    ("gho_", 16, "a GitHub token"),
    ("ghs_", 16, "a GitHub token"),
    ("ghu_", 16, "a GitHub token"),
    ("glpat-", 16, "a GitLab token"),
    ("xoxb-", 16, "a Slack token"),
    ("xoxp-", 16, "a Slack token"),
    ("sk-", 20, "an API secret key"),
];

const WEBHOOKS: &[&str] = &[
    "hooks.slack.com/services/",
    "discord.com/api/webhooks/",
    "discordapp.com/api/webhooks/",
];

/// The first secret-shaped part of `s`: where, and what it looks like.
pub fn find(s: &str) -> Option<(Range<usize>, &'static str)> {
    let mut all = find_all(s);
    all.sort_by_key(|(r, _)| r.start);
    all.into_iter().next()
}

/// `s` with every secret-shaped part replaced by `mark`; how many there were.
pub fn mask(s: &str, mark: &str) -> (String, usize) {
    let mut spans = find_all(s);
    if spans.is_empty() {
        return (s.to_string(), 0);
    }
    spans.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    let mut n = 0;
    for (r, _) in spans {
        if r.start < at {
            continue; // inside one already masked
        }
        out.push_str(&s[at..r.start]);
        out.push_str(mark);
        at = r.end;
        n += 1;
    }
    out.push_str(&s[at..]);
    (out, n)
}

fn find_all(s: &str) -> Vec<(Range<usize>, &'static str)> {
    let mut out = Vec::new();
    pem(s, &mut out);
    url_passwords(s, &mut out);
    webhooks(s, &mut out);
    tokens(s, &mut out);
    out
}

fn pem(s: &str, out: &mut Vec<(Range<usize>, &'static str)>) {
    let mut from = 0;
    while let Some(i) = s[from..].find("-----BEGIN ") {
        let start = from + i;
        let head_end = s[start + 11..].find("-----").map(|j| start + 11 + j);
        let Some(head_end) = head_end else { return };
        let label = &s[start + 11..head_end];
        let next = head_end + 5;
        if label.contains("PRIVATE KEY") && label.len() < 40 {
            let end = s[next..]
                .find("-----END ")
                .and_then(|j| {
                    s[next + j + 9..]
                        .find("-----")
                        .map(|k| next + j + 9 + k + 5)
                })
                .unwrap_or(s.len());
            out.push((start..end, "a PEM private key"));
            from = end;
        } else {
            from = next;
        }
    }
}

/// `scheme://user:PASSWORD@host`: the password part.
fn url_passwords(s: &str, out: &mut Vec<(Range<usize>, &'static str)>) {
    let mut from = 0;
    while let Some(i) = s[from..].find("://") {
        let auth_start = from + i + 3;
        let rest = &s[auth_start..];
        let auth_len = rest
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(rest.len());
        let authority = &rest[..auth_len];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                let pw = auth_start + colon + 1..auth_start + at;
                // `${...}` is a reference, filled in at plan time, not a password.
                if !pw.is_empty() && !s[pw.clone()].starts_with("${") {
                    out.push((pw, "a password inside a URL"));
                }
            }
        }
        from = auth_start;
    }
}

fn webhooks(s: &str, out: &mut Vec<(Range<usize>, &'static str)>) {
    for hook in WEBHOOKS {
        let mut from = 0;
        while let Some(i) = s[from..].find(hook) {
            let start = from + i + hook.len();
            let len = s[start..]
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                .unwrap_or(s.len() - start);
            if len >= 8 {
                out.push((start..start + len, "a chat webhook URL"));
            }
            from = start;
        }
    }
}

fn tokens(s: &str, out: &mut Vec<(Range<usize>, &'static str)>) {
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    // One pass over the words (maximal runs of token characters).
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (token_char(c) && i < s.len(), start) {
            (true, None) => start = Some(i),
            (false, Some(b)) => {
                start = None;
                if let Some(what) = token_kind(&s[b..i]) {
                    out.push((b..i, what));
                }
            }
            _ => {}
        }
    }
}

fn token_kind(word: &str) -> Option<&'static str> {
    if let Some((_, _, what)) = PREFIXES
        .iter()
        .find(|(p, min, _)| word.starts_with(p) && word.len() >= p.len() + min)
    {
        // `sk-` alone is common in names (`sk-fra1-production-db-01`): a key has a
        // long random part (`sk-proj-<random>`, `sk-<random>`).
        let keyed = word[3..]
            .split(['-', '_'])
            .any(|part| part.len() >= 20 && random(part));
        if !word.starts_with("sk-") || word.starts_with("sk-ant-") || keyed {
            return Some(what);
        }
        return None;
    }
    (word.len() == 20
        && word.starts_with("AKIA")
        && word[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    .then_some("an AWS access key id")
}

/// Letters and digits mixed as in a generated key, not a name.
fn random(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    digits >= 2 && letters >= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_shape() {
        let cases = [
            (
                format!("key {}{}", "sk-ant-api03-", "a1b2c3d4e5f6g7h8i9"),
                "Anthropic",
            ),
            (
                format!("{}{}", "ghp_", "abcdefghij0123456789ABCD"),
                "GitHub",
            ),
            (
                format!("{}{}", "github_pat_", "11ABCDEFG0123456789_abcdef"),
                "GitHub",
            ),
            (format!("{}{}", "glpat-", "abcdefghij0123456789"), "GitLab"),
            (format!("{}{}", "xoxb-", "1234567890-abcdefghij"), "Slack"),
            (format!("id={}{}", "AKIA", "IOSFODNN7EXAMPLE"), "AWS"),
            (
                format!("{}{}", "sk-", "proj-a1B2c3D4e5F6g7H8i9J0k1"),
                "secret key",
            ),
            (
                "https://hooks.slack.com/services/T000/B000/XXXXXXXX".into(),
                "webhook",
            ),
            ("postgres://app:hunter22@db.lan:5432/app".into(), "URL"),
            (
                concat!(
                    "-----BEGIN OPENSSH ",
                    "PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH ",
                    "PRIVATE KEY-----"
                )
                .into(),
                "PEM",
            ),
        ];
        for (s, what) in cases {
            let (_, kind) = find(&s).unwrap_or_else(|| panic!("{s} not found"));
            assert!(kind.contains(what), "{s}: {kind}");
            let (masked, n) = mask(&s, "[REDACTED]");
            assert_eq!(n, 1, "{masked}");
        }
        let (masked, _) = mask("postgres://app:hunter22@db.lan/x", "***");
        assert_eq!(masked, "postgres://app:***@db.lan/x");
    }

    #[test]
    fn ordinary_values_are_not_secrets() {
        for s in [
            "sk-web",
            "sk-fra1-production-db-01",
            "sk-learn-server-2024-v1",
            "task-runner-sk-1",
            "desk-manager-production-eu",
            "https://user@host/x",
            "http://grafana.lab:3000/login",
            "https://${vars.user}:${vars.pass}@host",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "AKIA is a prefix",
            "ghp_short",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq admin@lab",
        ] {
            assert_eq!(find(s), None, "{s}");
        }
    }
}
