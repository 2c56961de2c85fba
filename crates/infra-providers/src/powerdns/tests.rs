//! Unit tests of the API ⇄ model conversion: what a REPLACE sends, and that an
//! rrset read back converts to exactly the attributes the spec wrote. The
//! provider against a real server is tested in tests/ (conformance, batches, faults).

use serde_json::{json, Value};

use super::convert::{
    self, observe, quote_txt, record_of, rrset_with, unquote_txt, Comment, Key, RRSet, Record,
};
use infra_core::spec::Attrs;
use infra_kit::{Desired, ProviderError};

fn desired(attrs: Value) -> Desired {
    let mut a: Attrs = serde_json::from_value(attrs).unwrap();
    a.entry("ttl".into()).or_insert(json!(300));
    a.entry("proxied".into()).or_insert(json!(false));
    Desired {
        address: "dns_record.www".into(),
        kind: "dns_record".into(),
        attrs: a,
        settings: Attrs::new(),
    }
}

fn to_rrset(d: &Desired, project: &str, keep: &[Comment]) -> Result<RRSet, ProviderError> {
    let (key, wire, ttl) = record_of(d)?;
    Ok(rrset_with(
        &key,
        ttl,
        &[(wire, d.address.clone())],
        keep,
        project,
    ))
}

fn wire(d: &Desired) -> RRSet {
    to_rrset(d, "lab", &[]).unwrap()
}

/// The spec's attributes survive a trip through the wire form unchanged.
fn round_trip(attrs: Value) {
    let d = desired(attrs);
    let rrset = wire(&d);
    let o = observe("example.com.", &rrset, "lab").remove(0);
    for (k, v) in &d.attrs {
        assert_eq!(o.attrs.get(k), Some(v), "{k} in {rrset:?} -> {:?}", o.attrs);
    }
    assert_eq!(o.owner.as_deref(), Some("dns_record.www"));
}

#[test]
fn records_round_trip() {
    round_trip(json!({"zone": "example.com", "name": "www", "type": "A", "content": "10.0.0.5"}));
    round_trip(
        json!({"zone": "example.com", "name": "@", "type": "AAAA", "content": "2001:db8::1"}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "c", "type": "CNAME", "content": "www.example.com"}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "@", "type": "MX", "content": "mail.example.com", "priority": 10}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "_sip._tcp", "type": "SRV", "content": "5 5060 sip.example.com", "priority": 0}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "t", "type": "TXT", "content": "v=spf1 -all"}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "t", "type": "TXT", "content": "say \"hi\" \\ bye; café"}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "t", "type": "TXT", "content": "k".repeat(600)}),
    );
    round_trip(
        json!({"zone": "example.com", "name": "*", "type": "CAA", "content": "0 issue \"letsencrypt.org\""}),
    );
}

#[test]
fn wire_form_is_what_powerdns_stores() {
    let mx = wire(&desired(
        json!({"zone": "example.com", "name": "@", "type": "MX", "content": "mail.example.com", "priority": 10}),
    ));
    assert_eq!(mx.name, "example.com.");
    assert_eq!(mx.records[0].content, "10 mail.example.com.");
    assert_eq!(mx.changetype.as_deref(), Some("REPLACE"));
    assert_eq!(
        mx.comments,
        vec![Comment {
            content: "infra:lab/dns_record.www 10 mail.example.com.".into(),
            account: "infra".into()
        }]
    );
    let txt = wire(&desired(
        json!({"zone": "example.com", "name": "t", "type": "TXT", "content": "a \"b\""}),
    ));
    assert_eq!(txt.records[0].content, r#""a \"b\"""#);
    let long = quote_txt(&"x".repeat(300));
    assert_eq!(
        long,
        format!("\"{}\" \"{}\"", "x".repeat(255), "x".repeat(45))
    );
    // PowerDNS's own spelling of bytes is read back as text.
    assert_eq!(unquote_txt(r#""caf\195\169" "!""#), "café!");
}

fn rejected(attrs: Value) -> String {
    match to_rrset(&desired(attrs), "lab", &[]) {
        Err(ProviderError::Rejected { message, .. }) => message,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn audit_rejects_what_would_not_read_back_equal() {
    assert!(rejected(json!({"zone": "example.com", "name": "www", "type": "A", "content": "1.2.3.4", "proxied": true}))
        .contains("Cloudflare"));
    assert!(rejected(
        json!({"zone": "example.com", "name": "@", "type": "MX", "content": "mail.example.com"})
    )
    .contains("need `priority`"));
    assert!(rejected(json!({"zone": "example.com", "name": "www", "type": "A", "content": "1.2.3.4", "priority": 1}))
        .contains("MX, SRV"));
    assert!(rejected(
        json!({"zone": "example.com", "name": "c", "type": "CNAME", "content": "www.example.com."})
    )
    .contains("trailing dot"));
    assert!(rejected(
        json!({"zone": "example.com.", "name": "c", "type": "A", "content": "1.2.3.4"})
    )
    .contains("trailing dot"));
    assert!(rejected(
        json!({"zone": "example.com", "name": "WWW", "type": "A", "content": "1.2.3.4"})
    )
    .contains("lowercase"));
    assert!(rejected(
        json!({"zone": "example.com", "name": "v6", "type": "AAAA", "content": "2001:DB8:0::1"})
    )
    .contains("`2001:db8::1`"));
    assert!(rejected(
        json!({"zone": "example.com", "name": "www", "type": "A", "content": "not-an-ip"})
    )
    .contains("not an IPv4 address"));
}

#[test]
fn ids_and_names() {
    let k = Key::parse("example.com/www/A").unwrap();
    assert_eq!(k.fqdn(), "www.example.com.");
    assert_eq!(
        Key::of("example.com.", "example.com.", "MX").id(),
        "example.com/@/MX"
    );
    assert_eq!(
        Key::of("example.com.", "a.b.example.com.", "TXT").id(),
        "example.com/a.b/TXT"
    );
    assert!(Key::parse("example.com/www").is_err());
    let r = Key::parse("example.com/t/TXT/\"a/b\"").unwrap();
    assert_eq!(r.record.as_deref(), Some("\"a/b\""));
    assert_eq!(r.rrset_id(), "example.com/t/TXT");
}

#[test]
fn foreign_and_odd_rrsets_read_as_drift_not_as_ours() {
    let rrset = RRSet {
        name: "www.example.com.".into(),
        rtype: "A".into(),
        ttl: Some(60),
        changetype: None,
        records: vec![
            Record {
                content: "10.0.0.1".into(),
                disabled: false,
            },
            Record {
                content: "10.0.0.2".into(),
                disabled: true,
            },
        ],
        comments: vec![
            Comment {
                content: "infra:other/dns_record.www".into(),
                account: "infra".into(),
            },
            Comment {
                content: "kept by hand".into(),
                account: "ops".into(),
            },
        ],
    };
    let o = observe("example.com.", &rrset, "lab");
    assert!(
        o.iter().all(|o| o.owner.is_none()),
        "another project's marker is not ours"
    );
    assert_eq!(o[0].attrs["content"], json!("10.0.0.1"));
    assert_eq!(o[1].attrs["content"], json!("(disabled) 10.0.0.2"));
    assert_eq!(convert::foreign_comments(&rrset).len(), 1);
    let ours = to_rrset(
        &desired(json!({"zone": "example.com", "name": "www", "type": "A", "content": "10.0.0.1"})),
        "lab",
        &convert::foreign_comments(&rrset),
    )
    .unwrap();
    assert_eq!(
        ours.comments.len(),
        2,
        "a human's comment survives infra's rewrite"
    );
}

#[test]
fn api_key_never_prints() {
    let s = super::Settings {
        api_url: "http://127.0.0.1:1".into(),
        api_key: infra_kit::Secret::new("sekrit-key"),
        server_id: "localhost".into(),
        zones: None,
        timeout: std::time::Duration::from_secs(1),
    };
    assert!(!format!("{s:?}").contains("sekrit"));
}

#[test]
fn one_rrset_holds_records_of_several_resources() {
    let mut rrset = RRSet {
        name: "@.example.com.".into(),
        rtype: "TXT".into(),
        ttl: Some(300),
        changetype: None,
        records: vec![
            Record {
                content: "\"v=spf1 -all\"".into(),
                disabled: false,
            },
            Record {
                content: "\"verify=1\"".into(),
                disabled: false,
            },
        ],
        comments: vec![
            convert::record_marker("lab", "dns_record.spf", "\"v=spf1 -all\""),
            convert::record_marker("lab", "dns_record.verify", "\"verify=1\""),
        ],
    };
    let owners: Vec<Option<String>> = observe("example.com.", &rrset, "lab")
        .into_iter()
        .map(|o| o.owner)
        .collect();
    assert_eq!(
        owners,
        vec![
            Some("dns_record.spf".to_string()),
            Some("dns_record.verify".to_string())
        ]
    );
    // A marker from before per-record ownership names an rrset's only record.
    rrset.records.pop();
    rrset.comments = vec![Comment {
        content: "infra:lab/dns_record.spf".into(),
        account: "infra".into(),
    }];
    assert_eq!(
        convert::owners(&rrset, "lab"),
        vec![(convert::Owner::Ours("dns_record.spf".into()), None)]
    );
    // A record edited by hand keeps its owner and its id: that is drift.
    rrset.comments = vec![convert::record_marker(
        "lab",
        "dns_record.spf",
        "\"v=spf1 +all\"",
    )];
    let o = observe("example.com.", &rrset, "lab").remove(0);
    assert_eq!(o.owner.as_deref(), Some("dns_record.spf"));
    assert_eq!(o.id, "example.com/@/TXT/\"v=spf1 +all\"");
    assert_eq!(o.attrs["content"], "v=spf1 -all");
}

#[test]
fn every_type_round_trips_through_the_wire_form() {
    for (rtype, content, priority) in [
        ("PTR", "nas.example.com", None),
        ("SSHFP", "4 2 9f3cab", None),
        ("TLSA", "3 1 1 0c72ab", None),
        ("SMIMEA", "3 1 1 0c72ab", None),
        ("HTTPS", ". alpn=h3,h2", Some(1)),
        ("SVCB", "svc.example.com alpn=h2 port=8443", Some(16)),
        (
            "NAPTR",
            "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com",
            None,
        ),
        ("DS", "2371 13 2 1f98ab", None),
        (
            "LOC",
            "51 30 12.748 N 0 7 39.611 W 0.00m 1.00m 10000.00m 10.00m",
            None,
        ),
        ("URI", "1 \"https://www.example.com/\"", Some(10)),
        ("CERT", "3 0 0 mQINBFab", None),
        ("OPENPGPKEY", "mQINBFab", None),
        ("DNSKEY", "257 3 13 mdsswUyr", None),
        ("ALIAS", "lb.example.net", None),
        ("LUA", "A \"ifportup(443, {'192.0.2.1'})\"", None),
        ("SPF", "v=spf1 mx -all", None),
    ] {
        let name = if rtype == "DNSKEY" { "@" } else { "x" };
        let mut attrs =
            json!({"zone": "example.com", "name": name, "type": rtype, "content": content});
        if let Some(p) = priority {
            attrs["priority"] = json!(p);
        }
        round_trip(attrs);
    }
}
