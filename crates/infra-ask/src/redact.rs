//! Secrets pasted into a request ("my token is …") are cut out before the text
//! goes anywhere: to an interpreter, a log line, a commit message or the spec.

/// Words after which the next token is a secret value.
const KEYWORDS: &[&str] = &[
    "token",
    "password",
    "pass",
    "passphrase",
    "pw",
    "passwd",
    "pwd",
    "secret",
    "apikey",
    "api_key",
    "api-key",
    "key",
    "pat",
    "credential",
    "credentials",
    "bearer",
];
const PREFIXES: &[&str] = &[
    "sk-",
    "sk_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "akia",
    "aiza",
    "ya29.",
    "eyj",
];
const MARK: &str = "[REDACTED]";

pub struct Redacted {
    pub text: String,
    /// How many values were cut out.
    pub found: usize,
}

fn looks_random(t: &str) -> bool {
    let t = t.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if t.len() < 20
        || t.contains('.')
            && t.split('.')
                .all(|l| l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && t.len() < 60
    {
        // Host names are long but dotted; keep them.
        return t.len() >= 20 && !t.contains('.');
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let letters = t.chars().filter(char::is_ascii_alphabetic).count();
    let upper = t.chars().filter(char::is_ascii_uppercase).count();
    digits >= 2 && letters >= 6 && (upper >= 2 || digits >= 6) && !t.contains('/')
}

/// Words that may stand between a keyword and its value ("the admin password the
/// supplier gave me is X"): the value is still the secret.
fn armed_words(w: &str) -> bool {
    matches!(
        w,
        "the"
            | "a"
            | "an"
            | "supplier"
            | "vendor"
            | "they"
            | "he"
            | "she"
            | "we"
            | "you"
            | "gave"
            | "given"
            | "sent"
            | "me"
            | "us"
            | "set"
            | "to"
            | "for"
            | "it"
            | "that"
            | "which"
            | "default"
            | "initial"
            | "admin"
            | "root"
            | "user"
            | "new"
            | "old"
    )
}

pub fn redact(text: &str) -> Redacted {
    let mut out = Vec::new();
    let mut found = 0;
    let mut secret_next = false;
    for word in text.split(' ') {
        let lower = word.to_lowercase();
        let bare = lower.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-');
        let filler = ["is", "=", ":", "was", "my", "the", "of"].contains(&bare) || bare.is_empty();
        // After "token is", a value with digits or symbols (or a long one) is the secret.
        // Paths (a key *file*) are not secrets.
        let value_like = (bare.chars().any(|c| !c.is_ascii_alphabetic()) || bare.len() >= 12)
            && !word.starts_with('/')
            && !word.starts_with("./");
        // Values published in DNS by design (site verification, SPF, DMARC) are no secrets.
        let public = lower.contains("-verification=")
            || lower.starts_with("v=spf")
            || lower.starts_with("v=dmarc");
        let is_secret = !public
            && ((secret_next && !filler && !KEYWORDS.contains(&bare) && value_like)
                || PREFIXES
                    .iter()
                    .any(|p| bare.starts_with(p) && bare.len() >= p.len() + 8)
                || looks_random(word)
                || (lower.contains('=')
                    && KEYWORDS
                        .iter()
                        .any(|k| lower.split('=').next().is_some_and(|l| l.ends_with(k)))));
        if is_secret {
            found += 1;
            out.push(MARK.to_string());
            secret_next = false;
            continue;
        }
        if KEYWORDS.contains(&bare)
            || bare.ends_with("_token")
            || bare.ends_with("_key")
            || bare.ends_with("password")
        {
            secret_next = true;
        } else if !filler && !armed_words(bare) {
            secret_next = false;
        }
        out.push(word.to_string());
    }
    Redacted {
        text: out.join(" "),
        found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_tokens_are_cut() {
        let r = redact("Create grafana, my cloudflare token is Xy7fQ2pL9mN4 please");
        assert_eq!(
            r.text,
            "Create grafana, my cloudflare token is [REDACTED] please"
        );
        assert_eq!(r.found, 1);
        let r = redact("deploy x with api_key=abc123def456 now");
        assert!(!r.text.contains("abc123def456"), "{}", r.text);
        let r = redact(&format!("use {}{} for it", "sk-ant-", "FAKEfake0000000000"));
        assert!(!r.text.contains("sk-ant"), "{}", r.text);
        let r = redact("password: hunter2hunter2");
        assert!(!r.text.contains("hunter2"), "{}", r.text);
    }

    #[test]
    fn ordinary_requests_are_untouched() {
        for s in [
            "Create a new API scanner service",
            "Give the api scanner 4 cores and 2 GB of memory",
            "make it accessible at api-scanner.lab.example.com on port 8080",
            "add a TXT record for _dmarc with \"v=DMARC1; p=none\"",
            "remove the monitoring key from grafana",
        ] {
            let r = redact(s);
            assert_eq!(r.found, 0, "{s} → {}", r.text);
        }
    }
}
