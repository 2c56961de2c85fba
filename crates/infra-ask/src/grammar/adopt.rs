//! "Bring the DNS zone under infra", "adopt the containers on pve1", "take over
//! what already runs": an adoption, with what the request narrows it to (a
//! provider, a zone, a kind). `infra adopt` does the reading; ask only says so.

use super::lex::Kind;
use super::Clause;
use super::Grammar;
use crate::intent::Operation;

/// Does the clause ask to take over what exists?
fn asks(c: &Clause) -> bool {
    let w = c.words();
    let adopt = w.iter().any(|x| x.starts_with("adopt"));
    let under = c.has("under")
        && c.has_any(&["bring", "put", "get", "place", "move"])
        && c.has_any(&["infra", "infra's", "management", "control"]);
    let take_over = w
        .windows(2)
        .any(|p| matches!(p[0], "take" | "taking" | "takes") && p[1] == "over");
    // "what already runs", "the existing records": never a plain "existing
    // gitea", which names something to change.
    let existing = c.has_any(&[
        "existing",
        "running",
        "already",
        "hand-made",
        "manual",
        "manually",
        "everything",
    ]);
    let import = c.has_any(&["import", "importing"]);
    adopt || under || ((take_over || import) && existing)
}

/// The kind a request narrows an adoption to, by the words it uses.
fn kind(c: &Clause) -> Option<String> {
    let kinds: &[(&[&str], &str)] = &[
        (&["zone", "zones", "dns", "record", "records"], "dns_record"),
        (&["container", "containers", "lxc", "lxcs"], "container"),
        (&["vm", "vms", "virtual"], "vm"),
        (
            &[
                "site", "sites", "proxy", "proxies", "nginx", "vhost", "vhosts",
            ],
            "proxy_site",
        ),
        (&["monitor", "monitors", "checks", "probes"], "monitor"),
        (&["file", "files"], "file"),
    ];
    let found: Vec<&str> = kinds
        .iter()
        .filter(|(words, _)| c.has_any(words))
        .map(|(_, k)| *k)
        .collect();
    // One kind named: that one; several or none: everything.
    match found.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

pub fn adopt(g: &Grammar, c: &Clause) -> Option<Operation> {
    if !asks(c) {
        return None;
    }
    let t = &c.toks;
    // A provider by name where the request says where: "on pve1", "from dns".
    let providers: Vec<String> = (0..t.len())
        .filter(|&i| g.world.providers.contains_key(&t[i].low))
        .filter(|&i| {
            (i > 0
                && matches!(
                    t[i - 1].low.as_str(),
                    "on" | "from" | "in" | "of" | "provider"
                ))
                || t.get(i + 1).is_some_and(|n| {
                    matches!(n.low.as_str(), "provider" | "node" | "host" | "server")
                })
        })
        .map(|i| t[i].low.clone())
        .collect();
    let zone = t
        .iter()
        .filter(|x| x.kind == Kind::Fqdn)
        .map(|x| x.low.trim_end_matches('.').to_string())
        .find(|z| g.world.zones.contains(z));
    let kind = if zone.is_some() {
        Some("dns_record".to_string())
    } else {
        kind(c)
    };
    Some(Operation::Adopt {
        providers,
        zone,
        kind,
    })
}
