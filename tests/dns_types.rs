//! Every DNS record type the spec describes: a good value of each passes
//! `infra validate`, a bad one is reported at its file:line with the field
//! named, and on the lab's PowerDNS one of each is created, read back with no
//! change planned, and answered by the server.

mod common;
mod labkit;

use common::TestEnv;
use labkit::pdns::{Pdns, KEY};

const ZONE: &str = "types.test";

/// (name, type, content, priority): one valid record of every type.
const GOOD: &[(&str, &str, &str, Option<u16>)] = &[
    ("a", "A", "192.0.2.10", None),
    ("aaaa", "AAAA", "2001:db8::10", None),
    ("cname", "CNAME", "a.types.test", None),
    ("@", "MX", "mail.types.test", Some(10)),
    ("txt", "TXT", "v=spf1 mx -all", None),
    ("sub", "NS", "ns1.types.test", None),
    ("_sip._tcp", "SRV", "5 5060 sip.types.test", Some(10)),
    ("@", "CAA", "0 issue \\\"letsencrypt.org\\\"", None),
    ("10", "PTR", "nas.types.test", None),
    ("host", "SSHFP", "4 2 9f3cab0123456789", None),
    ("_443._tcp.www", "TLSA", "3 1 1 0c72ab0123456789", None),
    ("x._smimecert", "SMIMEA", "3 0 1 aabbccdd", None),
    ("www", "HTTPS", ". alpn=h3,h2", Some(1)),
    (
        "_8443._https.api",
        "SVCB",
        "api.types.test alpn=h2 port=8443",
        Some(1),
    ),
    (
        "@",
        "NAPTR",
        "100 10 \\\"S\\\" \\\"SIP+D2U\\\" \\\"\\\" _sip._udp.types.test",
        None,
    ),
    ("sub", "DS", "2371 13 2 1f987cc6583e92df0890718c42", None),
    (
        "office",
        "LOC",
        "51 30 12.748 N 0 7 39.611 W 0.00m 1.00m 10000.00m 10.00m",
        None,
    ),
    (
        "_ftp._tcp",
        "URI",
        "1 \\\"ftp://ftp.types.test/\\\"",
        Some(10),
    ),
    ("pgp", "CERT", "3 0 0 mQINBFab", None),
    ("k._openpgpkey", "OPENPGPKEY", "mQINBFab", None),
    ("@", "DNSKEY", "257 3 13 mdsswUyr3DPW", None),
    ("spf", "SPF", "v=spf1 -all", None),
    ("alias", "ALIAS", "lb.example.net", None),
    ("dyn", "LUA", "A \\\"'192.0.2.1'\\\"", None),
];

/// (type, content, what the message names): one bad value of each type.
const BAD: &[(&str, &str, &str)] = &[
    ("A", "192.0.2.300", "not an IPv4 address"),
    ("AAAA", "2001:DB8::10", "`2001:db8::10`"),
    ("CNAME", "a.types.test.", "without the trailing dot"),
    ("MX", "mail types", "more than MX data holds"),
    ("NS", "ns_1..types.test", "target"),
    ("SRV", "5 70000 sip.types.test", "port `70000`"),
    ("CAA", "0 issue letsencrypt.org", "must be quoted"),
    ("PTR", "nas.types.test.", "trailing dot"),
    ("SSHFP", "4 2 xyz", "fingerprint"),
    ("TLSA", "3 1 1", "certificate is missing"),
    ("SMIMEA", "3 0 999 aabb", "matching_type `999`"),
    ("HTTPS", ". ALPN=h2", "params"),
    ("SVCB", "", "target is missing"),
    ("NAPTR", "100 10 S SIP+D2U \\\"\\\" .", "must be quoted"),
    ("DS", "2371 13 2 xyz", "digest"),
    ("LOC", "", "location is missing"),
    ("URI", "1 ftp://x", "must be quoted"),
    ("CERT", "PGP 0 0 mQINBFab", "cert_type `PGP`"),
    ("OPENPGPKEY", "", "key is missing"),
    ("DNSKEY", "257 3 300 abcd", "algorithm `300`"),
    ("ALIAS", "lb..example.net", "target"),
    ("LUA", "A", "code is missing"),
];

fn provider(api_url: &str) -> String {
    format!(
        "[project]\nname = \"types\"\n\n[providers.dns]\nkind = \"powerdns\"\napi_url = \"{api_url}\"\napi_key = \"env:PDNS_TEST_KEY\"\nzones = [\"{ZONE}\"]\n"
    )
}

fn record(i: usize, name: &str, rtype: &str, content: &str, priority: Option<u16>) -> String {
    let mut t = format!(
        "[dns_record.r{i}]\nzone = \"{ZONE}\"\nname = \"{name}\"\ntype = \"{rtype}\"\ncontent = \"{content}\"\n"
    );
    if let Some(p) = priority {
        t.push_str(&format!("priority = {p}\n"));
    }
    t.push('\n');
    t
}

fn good_spec() -> String {
    GOOD.iter()
        .enumerate()
        .map(|(i, (n, t, c, p))| record(i, n, t, c, *p))
        .collect()
}

#[test]
fn a_good_value_of_every_type_validates() {
    assert_eq!(
        GOOD.len(),
        infra::spec::schema::DNS_TYPES.len(),
        "one of each type"
    );
    let env = TestEnv::new();
    env.write("infra.toml", &provider("http://127.0.0.1:9"));
    env.write("infra/main.toml", &good_spec());
    let run = env.infra(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn a_bad_value_of_every_type_is_reported_at_its_line() {
    let env = TestEnv::new();
    env.write("infra.toml", &provider("http://127.0.0.1:9"));
    let mut spec = String::new();
    let mut lines = Vec::new();
    for (i, (t, c, _)) in BAD.iter().enumerate() {
        let priority = infra::dns::has_priority(t).then_some(1);
        let text = record(i, "x", t, c, priority);
        let line = spec.lines().count() + 5; // `content` is the fifth line of a record
        spec.push_str(&text);
        lines.push(line);
    }
    env.write("infra/main.toml", &spec);
    let before = env.snapshot();
    let run = env.infra(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let out = run.all();
    for ((t, _, what), line) in BAD.iter().zip(lines) {
        let at = format!("infra/main.toml:{line}:");
        let block = out
            .split("error")
            .find(|b| b.contains(&at))
            .unwrap_or_else(|| panic!("{t}: nothing reported at {at}:\n{out}"));
        assert!(
            block.contains(what),
            "{t}: expected {what:?} at {at}, got:\n{block}"
        );
    }
    assert_eq!(env.snapshot(), before, "validate changes nothing");
    // Each bad record is one problem: the spec's check, not the provider's
    // audit saying the same again.
    let json = env.infra(&["validate", "--format", "json"]).stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut places: Vec<(u64, u64)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["column"].as_u64().unwrap()))
        .collect();
    let all = places.len();
    places.dedup();
    assert_eq!(places.len(), all, "one problem per place: {json}");
    assert!(all >= BAD.len(), "{json}");
}

#[test]
fn a_missing_priority_is_said_once() {
    let env = TestEnv::new();
    env.write("infra.toml", &provider("http://127.0.0.1:9"));
    env.write(
        "infra/main.toml",
        &record(0, "@", "MX", "mail.example.com", None),
    );
    let run = env.infra(&["validate"]).expect(1);
    let all = run.all();
    assert!(all.contains("needs `priority`"), "{all}");
    assert!(all.contains("the spec has 1 error"), "{all}");
}

#[test]
fn structured_parts_are_checked_where_they_are_written() {
    let env = TestEnv::new();
    env.write("infra.toml", &provider("http://127.0.0.1:9"));
    env.write(
        "infra/main.toml",
        &format!(
            "[dns_record.sip]\nzone = \"{ZONE}\"\nname = \"_sip._tcp\"\ntype = \"SRV\"\npriority = 10\nweight = 5\nport = 70000\ntarget = \"sip.types.test\"\n\n\
             [dns_record.both]\nzone = \"{ZONE}\"\nname = \"@\"\ntype = \"CAA\"\ncontent = \"0 issue \\\"x\\\"\"\ntag = \"issue\"\n\n\
             [dns_record.stray]\nzone = \"{ZONE}\"\nname = \"a\"\ntype = \"A\"\nport = 80\n"
        ),
    );
    let run = env.infra(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains("infra/main.toml:7:") && out.contains("70000"),
        "{out}"
    );
    assert!(
        out.contains("infra/main.toml:15:") && out.contains("both `content` and `tag`"),
        "{out}"
    );
    assert!(
        out.contains("infra/main.toml:21:") && out.contains("`content` only, not `port`"),
        "{out}"
    );
}

#[test]
fn one_of_every_type_round_trips_through_powerdns() {
    let pdns = Pdns::start(&[ZONE]);
    let env = TestEnv::new();
    env.git(&["init", "-q", "-b", "main"]);
    env.write("infra.toml", &provider(&pdns.api_url()));
    env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
    // Two resources of one rrset (round-robin), and SRV written by its parts.
    let spec = format!(
        "{}[dns_record.rr]\nzone = \"{ZONE}\"\nname = \"a\"\ntype = \"A\"\ncontent = \"192.0.2.11\"\n\n\
         [dns_record.parts]\nzone = \"{ZONE}\"\nname = \"_xmpp._tcp\"\ntype = \"SRV\"\npriority = 5\nweight = 0\nport = 5222\ntarget = \"xmpp.types.test\"\n",
        good_spec()
    );
    env.write("infra/main.toml", &spec);
    env.commit_all("every type");
    let secrets = [("PDNS_TEST_KEY", KEY)];
    let run = env.infra_with_secrets(&["apply", "--yes"], &secrets);
    assert_eq!(run.code, 0, "{}", run.all());
    let plan = env.infra_with_secrets(&["plan", "--detailed-exitcode"], &secrets);
    assert_eq!(
        plan.code,
        0,
        "a second plan changes nothing:\n{}",
        plan.all()
    );
    let mut a = pdns.dig(&format!("a.{ZONE}"), "A");
    a.sort();
    assert_eq!(a, ["192.0.2.10", "192.0.2.11"]);
    assert_eq!(
        pdns.dig(&format!("_xmpp._tcp.{ZONE}"), "SRV"),
        [format!("5 0 5222 xmpp.{ZONE}.")]
    );
    assert_eq!(
        pdns.dig(&format!("_sip._tcp.{ZONE}"), "SRV"),
        [format!("10 5 5060 sip.{ZONE}.")]
    );
    assert_eq!(
        pdns.dig(&format!("10.{ZONE}"), "PTR"),
        [format!("nas.{ZONE}.")]
    );
    // Removing one record of the round-robin pair leaves the other.
    env.write(
        "infra/main.toml",
        spec.split("[dns_record.rr]").next().unwrap(),
    );
    env.commit_all("one fewer");
    let run = env.infra_with_secrets(&["apply", "--yes"], &secrets);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(pdns.dig(&format!("a.{ZONE}"), "A"), ["192.0.2.10"]);
}

#[test]
fn powerdns_asks_for_svcb_parameters_as_it_stores_them() {
    let env = TestEnv::new();
    env.write("infra.toml", &provider("http://127.0.0.1:9"));
    env.write(
        "infra/main.toml",
        &record(0, "www", "HTTPS", ". alpn=\\\"h2\\\"", Some(1)),
    );
    let run = env.infra(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("`. alpn=h2`"), "{}", run.all());
}

#[test]
fn records_of_one_rrset_must_agree_on_their_ttl() {
    let env = TestEnv::new();
    env.write("infra.toml", &provider("http://127.0.0.1:9"));
    env.write(
        "infra/main.toml",
        &format!(
            "[dns_record.a1]\nzone = \"{ZONE}\"\nname = \"www\"\ntype = \"A\"\ncontent = \"192.0.2.1\"\n\n\
             [dns_record.a2]\nzone = \"{ZONE}\"\nname = \"www\"\ntype = \"A\"\ncontent = \"192.0.2.2\"\nttl = 60\n"
        ),
    );
    let run = env.infra(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("infra/main.toml:12:") && run.all().contains("one rrset, with one TTL"),
        "{}",
        run.all()
    );
}
