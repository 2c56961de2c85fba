//! The words the grammar knows, in one place: verbs by the operation they ask
//! for, the parts of a service, attribute synonyms (schema-driven, see
//! `attribute`), and the ordinary words that are never names.

/// What a verb asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Edit,
    Remove,
    Clone,
    Rename,
    /// Something infra does not model (reboot, snapshot…): declined saying so.
    Unsupported,
}

/// Verbs, longest phrases first so "get rid of" wins over "get".
const VERBS: &[(&str, Verb)] = &[
    ("take a snapshot", Verb::Unsupported),
    ("take a backup", Verb::Unsupported),
    ("make a backup", Verb::Unsupported),
    ("keep an eye on", Verb::Create),
    ("turn off monitoring", Verb::Remove),
    ("disable monitoring", Verb::Remove),
    ("quit monitoring", Verb::Remove),
    ("stop monitoring", Verb::Remove),
    ("stop paging", Verb::Remove),
    ("stop alerting", Verb::Remove),
    ("roll out", Verb::Edit),
    ("stop watching", Verb::Remove),
    ("stop checking", Verb::Remove),
    ("no longer monitor", Verb::Remove),
    ("get rid of", Verb::Remove),
    ("can go", Verb::Remove),
    ("can be removed", Verb::Remove),
    ("can be deleted", Verb::Remove),
    ("could we have", Verb::Create),
    ("can we have", Verb::Create),
    ("can i get", Verb::Create),
    ("could i get", Verb::Create),
    ("could we get", Verb::Create),
    ("can we get", Verb::Create),
    ("no longer need", Verb::Remove),
    ("don't need", Verb::Remove),
    ("doesn't need", Verb::Remove),
    ("does not need", Verb::Remove),
    ("go away", Verb::Remove),
    ("do not need", Verb::Remove),
    ("tear down", Verb::Remove),
    ("take down", Verb::Remove),
    ("shut down", Verb::Unsupported),
    ("power off", Verb::Unsupported),
    ("spin up", Verb::Create),
    ("stand up", Verb::Create),
    ("set up", Verb::Create),
    ("bring up", Verb::Create),
    ("start monitoring", Verb::Create),
    ("start watching", Verb::Create),
    ("i'd like", Verb::Create),
    ("we'd like", Verb::Create),
    ("would like", Verb::Create),
    ("give me", Verb::Create),
    ("reverse proxy", Verb::Create),
    ("reverse-proxy", Verb::Create),
    ("turn on", Verb::Edit),
    ("turn off", Verb::Edit),
    ("switch on", Verb::Edit),
    ("switch off", Verb::Edit),
    ("open up", Verb::Edit),
    ("create", Verb::Create),
    ("add", Verb::Create),
    ("deploy", Verb::Create),
    ("setup", Verb::Create),
    ("launch", Verb::Create),
    ("provision", Verb::Create),
    ("install", Verb::Create),
    ("new", Verb::Create),
    ("build", Verb::Create),
    ("need", Verb::Create),
    ("want", Verb::Create),
    ("make", Verb::Create),
    ("put", Verb::Create),
    ("point", Verb::Create),
    ("aim", Verb::Create),
    ("proxy", Verb::Create),
    ("expose", Verb::Create),
    ("publish", Verb::Create),
    ("monitor", Verb::Create),
    ("watch", Verb::Create),
    ("get", Verb::Create),
    ("register", Verb::Create),
    ("alias", Verb::Create),
    ("trial", Verb::Create),
    ("try out", Verb::Create),
    ("pilot", Verb::Create),
    ("route", Verb::Create),
    ("check", Verb::Create),
    ("give", Verb::Edit),
    ("set", Verb::Edit),
    ("change", Verb::Edit),
    ("bump", Verb::Edit),
    ("increase", Verb::Edit),
    ("raise", Verb::Edit),
    ("grow", Verb::Edit),
    ("extend", Verb::Edit),
    ("expand", Verb::Edit),
    ("lower", Verb::Edit),
    ("reduce", Verb::Edit),
    ("decrease", Verb::Edit),
    ("cut", Verb::Edit),
    ("shrink", Verb::Edit),
    ("double", Verb::Edit),
    ("halve", Verb::Edit),
    ("triple", Verb::Edit),
    ("resize", Verb::Edit),
    ("scale", Verb::Edit),
    ("move", Verb::Edit),
    ("update", Verb::Edit),
    ("upgrade", Verb::Edit),
    ("enable", Verb::Edit),
    ("disable", Verb::Edit),
    ("allow", Verb::Edit),
    ("open", Verb::Edit),
    ("restrict", Verb::Edit),
    ("limit", Verb::Edit),
    ("tighten", Verb::Edit),
    ("loosen", Verb::Edit),
    ("relax", Verb::Edit),
    ("fix", Verb::Edit),
    ("switch", Verb::Edit),
    ("use", Verb::Edit),
    ("serve", Verb::Edit),
    ("needs", Verb::Edit),
    ("have", Verb::Edit),
    ("rename", Verb::Rename),
    ("name be changed", Verb::Rename),
    ("name changed", Verb::Rename),
    ("change the name", Verb::Rename),
    ("change its name", Verb::Rename),
    ("clone", Verb::Clone),
    ("copy", Verb::Clone),
    ("duplicate", Verb::Clone),
    ("remove", Verb::Remove),
    ("delete", Verb::Remove),
    ("drop", Verb::Remove),
    ("destroy", Verb::Remove),
    ("nuke", Verb::Remove),
    ("retire", Verb::Remove),
    ("decommission", Verb::Remove),
    ("deprovision", Verb::Remove),
    ("teardown", Verb::Remove),
    ("wipe", Verb::Remove),
    ("kill", Verb::Remove),
    ("purge", Verb::Remove),
    ("uninstall", Verb::Remove),
    ("scrap", Verb::Remove),
    ("ditch", Verb::Remove),
    ("erase", Verb::Remove),
    ("unpublish", Verb::Remove),
    ("take", Verb::Remove),
    ("rm", Verb::Remove),
    ("ship", Verb::Edit),
    ("rollout", Verb::Edit),
    ("convert", Verb::Edit),
    ("snapshot", Verb::Unsupported),
    ("back up", Verb::Unsupported),
    ("reboot", Verb::Unsupported),
    ("restart", Verb::Unsupported),
    ("shutdown", Verb::Unsupported),
    ("stop", Verb::Unsupported),
    ("start", Verb::Unsupported),
    ("migrate", Verb::Unsupported),
    ("reinstall", Verb::Unsupported),
    ("exec", Verb::Unsupported),
    ("rollback", Verb::Unsupported),
    ("store", Verb::Unsupported),
    ("save", Verb::Unsupported),
    ("write", Verb::Unsupported),
];

/// The verb phrase starting at token `i` (lowercased words), and how many words it spans.
pub fn verb_at(words: &[&str], i: usize) -> Option<(Verb, usize)> {
    for (phrase, v) in VERBS {
        let parts: Vec<&str> = phrase.split(' ').collect();
        if words.len() >= i + parts.len()
            && parts
                .iter()
                .zip(&words[i..])
                .all(|(p, w)| *p == *w || inflected(p, w))
        {
            return Some((*v, parts.len()));
        }
    }
    None
}

/// A verb typed with one slip ("creat", "delte", "depoy"): long single-word verbs only.
pub fn verb_fuzzy(w: &str) -> Option<Verb> {
    if w.len() < 5 || !w.chars().all(|c| c.is_ascii_lowercase()) || is_common(w) {
        return None;
    }
    VERBS
        .iter()
        .filter(|(p, _)| !p.contains(' ') && p.len() >= 5)
        .find(|(p, _)| infra_core::util::edit_distance(p, w) == 1)
        .map(|(_, v)| *v)
}

/// "deployed", "creates", "pointing", "moved": the same verb.
fn inflected(base: &str, w: &str) -> bool {
    if w.len() < 3 || base.len() < 3 {
        return false;
    }
    let stem = base.trim_end_matches('e');
    let rest = match w.strip_prefix(stem) {
        Some(r) => r,
        None => return false,
    };
    let last = stem.chars().last().unwrap_or(' ');
    let doubled = format!("{last}");
    let rest = rest
        .strip_prefix(doubled.as_str())
        .filter(|_| rest.len() > 2)
        .unwrap_or(rest);
    matches!(rest, "s" | "es" | "ed" | "d" | "ing" | "e")
}

/// Words that, anywhere in a clause, ask for something infra does not model.
pub fn unsupported_noun(w: &str) -> bool {
    matches!(
        w,
        "snapshot"
            | "snapshots"
            | "reboot"
            | "restart"
            | "reinstall"
            | "shutdown"
            | "updates"
            | "patches"
            | "upgrades"
            | "backups"
    )
}

/// Words that start a "keep" clause ("but keep its DNS", "hang on to the record").
pub fn keeps(words: &[&str]) -> bool {
    match words {
        ["keep", "an", "eye", ..] => false,
        ["leave", rest @ ..] => !rest.iter().any(|w| matches!(*w, "off" | "out")),
        ["keep" | "retain" | "preserve" | "spare" | "except", ..] => true,
        ["hang" | "hold", "on", "to", ..] | ["hang" | "hold", "onto", ..] => true,
        ["don't" | "dont", "touch", ..] | ["do", "not", "touch", ..] => true,
        _ => false,
    }
}

/// A part of a service, by the kind that implements it.
pub fn part_kind(w: &str) -> Option<&'static str> {
    Some(match w {
        "dns" | "record" | "records" | "rec" | "recs" | "hostname" | "alias" | "entry"
        | "cname" => "dns_record",
        "proxy" | "proxies" | "nginx" | "vhost" | "reverse-proxy" | "upstream" => "proxy_site",
        "monitor" | "monitors" | "monitoring" | "check" | "checks" | "healthcheck" | "probe"
        | "alerting" | "paging" => "monitor",
        "container" | "containers" | "box" | "boxes" | "lxc" | "ct" | "machine" | "machines"
        | "worker" | "workers" | "instance" | "instances" => "container",
        "vm" | "vms" | "qemu" | "kvm" => "vm",
        _ => return None,
    })
}

/// Nouns that name a whole new thing to create, by capability kind.
pub fn head_noun(w: &str) -> bool {
    matches!(
        w,
        "service"
            | "page"
            | "services"
            | "svc"
            | "app"
            | "apps"
            | "application"
            | "website"
            | "site"
            | "webapp"
            | "server"
            | "stack"
            | "tool"
            | "dashboard"
    ) || part_kind(w).is_some()
}

/// An attribute a word refers to: (kinds it lives on, attribute name). Schema
/// attribute names work as written ("expect_status", "client max body size");
/// this table adds what people say instead.
pub fn attribute(w: &str) -> Option<(&'static [&'static str], &'static str)> {
    const MACHINE: &[&str] = &["container", "vm"];
    Some(match w {
        "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" | "processor" | "processors" => {
            (MACHINE, "cores")
        }
        "memory" | "ram" | "mem" => (MACHINE, "memory"),
        "disk" | "storage" | "space" | "ssd" | "drive" | "rootfs" | "volume" => (MACHINE, "disk"),
        "image" | "template" | "os" | "version" | "tag" => (MACHINE, "image"),
        "ip" | "address" => (MACHINE, "ip"),
        "ttl" => (&["dns_record"], "ttl"),
        "priority" | "prio" | "preference" | "pref" => (&["dns_record"], "priority"),
        "proxying" | "proxied" | "cdn" | "cloud" => (&["dns_record"], "proxied"),
        "interval" | "every" | "frequency" => (&["monitor"], "interval"),
        "status" | "answers" | "returns" | "responds" | "code" | "answer" | "return" => {
            (&["monitor"], "expect_status")
        }
        "timeout" => (&["monitor"], "timeout"),
        "port" => (&["proxy_site"], "port"),
        "upload" | "uploads" | "uploading" | "body" | "413" | "413s" => {
            (&["proxy_site"], "client_max_body_size")
        }
        "websocket" | "websockets" | "ws" => (&["proxy_site"], "websocket"),
        "cert" | "certificate" | "tls" | "https" | "ssl" => (&["proxy_site"], "tls_cert"),
        "key" => (&["proxy_site"], "tls_key"),
        _ => return None,
    })
}

/// Words that say "the same as before, but" (a value after them is the old one).
pub fn is_contrast(w: &str) -> bool {
    matches!(
        w,
        "instead" | "rather" | "not" | "from" | "was" | "currently" | "uses" | "only" | "still"
    )
}

/// Ordinary words: never a name, never an unknown reference.
pub fn is_common(w: &str) -> bool {
    const COMMON: &[&str] = &[
        "a",
        "an",
        "the",
        "my",
        "our",
        "your",
        "their",
        "his",
        "her",
        "its",
        "it",
        "it's",
        "this",
        "that",
        "these",
        "those",
        "them",
        "they",
        "we",
        "i",
        "i'd",
        "i'm",
        "you",
        "me",
        "us",
        "let's",
        "lets",
        "please",
        "pls",
        "plz",
        "kindly",
        "could",
        "can",
        "can't",
        "cannot",
        "would",
        "will",
        "should",
        "shall",
        "must",
        "may",
        "might",
        "to",
        "for",
        "of",
        "with",
        "on",
        "at",
        "in",
        "into",
        "onto",
        "by",
        "from",
        "as",
        "and",
        "or",
        "but",
        "so",
        "if",
        "then",
        "than",
        "also",
        "too",
        "just",
        "only",
        "now",
        "already",
        "still",
        "again",
        "be",
        "is",
        "are",
        "was",
        "were",
        "been",
        "being",
        "do",
        "does",
        "did",
        "done",
        "has",
        "had",
        "having",
        "go",
        "goes",
        "going",
        "there",
        "here",
        "all",
        "every",
        "each",
        "both",
        "some",
        "any",
        "no",
        "not",
        "none",
        "nothing",
        "everything",
        "anything",
        "something",
        "more",
        "less",
        "fewer",
        "extra",
        "additional",
        "another",
        "other",
        "same",
        "new",
        "old",
        "current",
        "up",
        "down",
        "off",
        "out",
        "over",
        "under",
        "away",
        "behind",
        "via",
        "using",
        "through",
        "thru",
        "till",
        "until",
        "like",
        "about",
        "after",
        "before",
        "while",
        "when",
        "where",
        "which",
        "who",
        "what",
        "how",
        "why",
        "hey",
        "hi",
        "hello",
        "thanks",
        "thank",
        "ok",
        "okay",
        "yes",
        "yeah",
        "sure",
        "quickly",
        "asap",
        "today",
        "tomorrow",
        "called",
        "named",
        "name",
        "call",
        "pointing",
        "points",
        "it'll",
        "we'll",
        "we're",
        "don't",
        "doesn't",
        "won't",
        "isn't",
        "anymore",
        "longer",
        "ourselves",
        "yourself",
        "public",
        "private",
        "internal",
        "external",
        "lan",
        "lan-only",
        "internet",
        "network",
        "world",
        "only",
        "reachable",
        "accessible",
        "available",
        "listens",
        "listening",
        "listen",
        "runs",
        "running",
        "run",
        "uses",
        "use",
        "web",
        "ui",
        "page",
        "console",
        "admin",
        "enabled",
        "disabled",
        "on",
        "off",
        "more",
        "each",
        "all",
        "rest",
        "whole",
        "entire",
        "project",
        "everything",
        "instead",
        "rather",
        "mode",
        "maintenance",
        "previous",
        "instructions",
        "ignore",
        "resource",
        "resources",
        "type",
        "value",
        "content",
        "target",
        "weight",
        "alias",
        "mail",
        "email",
        "issue",
        "issuer",
        "certificates",
        "limit",
        "size",
        "big",
        "large",
        "small",
        "tiny",
        "little",
        "fast",
        "faster",
        "slow",
        "better",
        "bigger",
        "smaller",
        "good",
        "nice",
        "keep",
        "keeping",
        "kept",
        "we've",
        "i've",
        "got",
        "now",
        "from",
        "now",
        "yet",
        "own",
        "let",
        "lets",
        "domain",
        "zone",
        "record",
        "public",
        "ip",
        "address",
        "apex",
        "root",
        "health",
        "healthz",
        "check",
        "team",
        "client",
        "clients",
        "customer",
        "customers",
        "user",
        "users",
        "people",
        "folks",
        "everyone",
        "somebody",
        "someone",
        "way",
        "thing",
        "things",
        "stuff",
        "one",
        "ones",
        "copy",
        "staging",
        "production",
        "prod",
        "dev",
        "test",
        "testing",
        "version",
        "latest",
        "http",
        "https",
        "tls",
        "ssl",
        "cert",
        "certificate",
        "key",
        "path",
        "file",
        "files",
        "lets",
        "encrypt",
        "letsencrypt",
        "let's",
        "s",
        "linux",
        "ipv6",
        "ipv4",
        "v6",
        "v4",
        "outside",
        "local",
        "restriction",
        "restrictions",
        "allowlist",
        "anymore",
        "bigger",
        "smaller",
        "hang",
        "hold",
        "retain",
        "preserve",
        "pls",
        "thx",
        "cheers",
        "fyi",
        "token",
        "password",
        "passwd",
        "secret",
        "apikey",
        "credentials",
        "credential",
        "uptime",
        "aim",
        "going",
        "away",
        "btw",
        "hosted",
        "hosting",
        "host",
        "hosts",
        "lives",
        "live",
        "living",
        "chap",
        "guy",
        "teacher",
        "teachers",
        "staff",
        "governors",
        "head",
        "school",
        "council",
        "supplier",
        "auditor",
        "caretaker",
        "students",
        "parents",
        "nobody",
        "minds",
        "trial",
        "found",
        "recommended",
        "half",
        "term",
        "room",
        "itself",
        "alone",
        "inside",
        "entirely",
        "whatever",
        "anyway",
        "respectively",
        "straight",
        "mind",
        "asap",
        "stuff",
        "based",
        "crazy",
        "since",
        "last",
        "bit",
        "ok",
        "wants",
        "needed",
        "gh",
        "lock",
        "turn",
        "orange",
        "grey",
        "gray",
        "cloud",
        "switch",
        "flip",
        "grey-cloud",
        "gray-cloud",
        "orange-cloud",
        "rec",
        "recs",
        "svc",
        "reverse",
        "virtual",
        "cloudflare",
        "proxmox",
        "docker",
        "powerdns",
        "prometheus",
        "pve",
        "lxc",
        "kubernetes",
        "k8s",
        "weather",
        "haiku",
        "joke",
        "poem",
        "story",
    ];
    COMMON.contains(&w)
        || verb_at(&[w], 0).is_some()
        || part_kind(w).is_some()
        || head_noun(w)
        || attribute(w).is_some()
        || super::quantity::unit(w).is_some()
        || super::quantity::word_number(w).is_some()
        || infra_core::dns::SPOKEN_TYPES.contains(&w.to_ascii_uppercase().as_str())
        || matches!(w, "spf" | "dmarc" | "dkim")
}

/// Well-known operating systems and images: "a debian box", "ubuntu 24.04".
pub fn is_image_word(w: &str) -> bool {
    matches!(
        w,
        "debian"
            | "ubuntu"
            | "alpine"
            | "fedora"
            | "rocky"
            | "rockylinux"
            | "centos"
            | "alma"
            | "almalinux"
            | "arch"
            | "archlinux"
            | "nixos"
            | "opensuse"
            | "suse"
            | "gentoo"
            | "devuan"
            | "kali"
            | "freebsd"
            | "postgres"
            | "postgresql"
            | "mysql"
            | "mariadb"
            | "redis"
            | "mongo"
            | "mongodb"
            | "node"
            | "python"
            | "nginx"
            | "caddy"
            | "httpd"
            | "busybox"
    )
}

/// What infra does not do, said plainly.
pub fn unsupported_reason(w: &str) -> &'static str {
    match w {
        "snapshot" | "backup" | "rollback" => {
            "infra declares infrastructure; it does not take snapshots or backups (use your hypervisor's tools; `infra rollback` restores an earlier spec)"
        }
        "store" | "save" | "write" => {
            "secrets never go into the spec: put the value in an environment variable and reference it as \"env:NAME\""
        }
        "updates" | "patches" | "upgrades" => {
            "infra declares machines; it does not install updates or run commands inside them (a new image is a change infra can make)"
        }
        _ => {
            "infra changes what is declared; it does not reboot, restart, start or stop running machines, or run commands on them"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_and_their_forms() {
        let w = ["get", "rid", "of", "it"];
        assert_eq!(verb_at(&w, 0), Some((Verb::Remove, 3)));
        assert_eq!(verb_at(&["deployed"], 0), Some((Verb::Create, 1)));
        assert_eq!(verb_at(&["moved"], 0), Some((Verb::Edit, 1)));
        assert_eq!(verb_at(&["pointing"], 0), Some((Verb::Create, 1)));
        assert_eq!(verb_at(&["stop", "monitoring"], 0), Some((Verb::Remove, 2)));
        assert_eq!(verb_at(&["reboot"], 0), Some((Verb::Unsupported, 1)));
        assert_eq!(verb_at(&["gitea"], 0), None);
    }

    #[test]
    fn parts_attributes_and_common_words() {
        assert_eq!(part_kind("monitoring"), Some("monitor"));
        assert_eq!(attribute("ram"), Some((&["container", "vm"][..], "memory")));
        assert!(is_common("the") && is_common("cores") && is_common("mx"));
        assert!(!is_common("gitea") && !is_common("immich"));
    }
}
