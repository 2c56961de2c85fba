//! Secrets pasted into a request ("my token is …") are cut out before the text
//! goes anywhere: to an interpreter, a log line, a commit message or the spec.
//! Shapes that are secrets wherever they stand (tokens with a known prefix,
//! `scheme://user:password@host`, PEM private keys, chat webhooks) go first, with
//! the detector spec validation uses; then words that follow "token is …".

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
    let (masked, mut found) = infra_core::secrets::mask(text, MARK);
    let mut out = String::with_capacity(masked.len());
    let mut secret_next = false;
    // Words are split at any whitespace (a request may come from a file), and the
    // whitespace is kept as it was.
    let mut rest = masked.as_str();
    while !rest.is_empty() {
        let gap = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..gap]);
        rest = &rest[gap..];
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        let word = &rest[..len];
        rest = &rest[len..];
        if secret_word(word, &mut secret_next) {
            found += 1;
            out.push_str(MARK);
        } else {
            out.push_str(word);
        }
    }
    Redacted { text: out, found }
}

/// Is this word a secret? `secret_next` carries "the word before was `token`" along.
fn secret_word(word: &str, secret_next: &mut bool) -> bool {
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
        && ((*secret_next && !filler && !KEYWORDS.contains(&bare) && value_like)
            || PREFIXES
                .iter()
                .any(|p| bare.starts_with(p) && bare.len() >= p.len() + 8)
            || looks_random(word)
            || (lower.contains('=')
                && KEYWORDS
                    .iter()
                    .any(|k| lower.split('=').next().is_some_and(|l| l.ends_with(k)))));
    if is_secret {
        *secret_next = false;
        return true;
    }
    if KEYWORDS.contains(&bare)
        || bare.ends_with("_token")
        || bare.ends_with("_key")
        || bare.ends_with("password")
    {
        *secret_next = true;
    } else if !filler && !armed_words(bare) {
        *secret_next = false;
    }
    false
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
            "deploy grafana\non port 3000\n\n\tand give it 2 cores",
            "point the monitor at http://grafana.lab.example.com:3000/login",
            "add the key file /etc/ssl/private/lab.key to the proxy",
        ] {
            let r = redact(s);
            assert_eq!(r.found, 0, "{s} → {}", r.text);
        }
    }

    #[test]
    fn secret_shapes_are_cut_wherever_they_stand() {
        let r = redact("back up to postgres://app:hunter22@db.lan:5432/app nightly");
        assert_eq!(
            r.text,
            "back up to postgres://app:[REDACTED]@db.lan:5432/app nightly"
        );
        assert_eq!(r.found, 1);
        let pem = concat!(
            "-----BEGIN OPENSSH ",
            "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACDx\n-----END OPENSSH ",
            "PRIVATE KEY-----"
        );
        let r = redact(&format!("use this key for the proxy:\n{pem}\nthanks"));
        assert_eq!(r.text, "use this key for the proxy:\n[REDACTED]\nthanks");
        assert_eq!(r.found, 1);
        let r = redact("alert to https://hooks.slack.com/services/T0001/B0002/XyZ123abc when down");
        assert!(!r.text.contains("XyZ123abc"), "{}", r.text);
        assert!(
            r.text
                .starts_with("alert to https://hooks.slack.com/services/"),
            "{}",
            r.text
        );
        assert_eq!(r.found, 1);
    }

    #[test]
    fn whitespace_is_kept_and_splits_words() {
        let r = redact("deploy vault\n\tmy token is\nXy7fQ2pL9mN4  please\n");
        assert_eq!(r.text, "deploy vault\n\tmy token is\n[REDACTED]  please\n");
        assert_eq!(r.found, 1);
    }
}
