//! The powerdns provider's batching API called directly (no engine): one PATCH
//! per zone, results mapped back to each op in order, ownership refused per op,
//! a zone the API rejects fails all of its ops (and only those) with the API's
//! own message, and transient failures carry Retry-After. A real PowerDNS behind
//! the counting proxy (labkit::faultproxy) shows which requests were made.

mod labkit;

use std::time::Duration;

use infra::providers::powerdns::{PowerDns, Settings};
use infra::providers::{BatchOp, BatchResult, Desired, Observed, Provider, ProviderError, Secret};
use infra::spec::Attrs;
use labkit::faultproxy::{Fault, FaultProxy};
use labkit::pdns::{Pdns, KEY};
use serde_json::{json, Value};

const A: &str = "a.test";
const B: &str = "b.test";

fn provider(url: &str, zones: Option<&[&str]>) -> PowerDns {
    let settings = Settings {
        api_url: url.into(),
        api_key: Secret::new(KEY),
        server_id: "localhost".into(),
        zones: zones.map(|z| z.iter().map(|s| s.to_string()).collect()),
        timeout: Duration::from_secs(2),
    };
    PowerDns::new(settings, "lab").unwrap()
}

fn record(name: &str, zone: &str, rtype: &str, content: &str) -> Desired {
    let attrs: Attrs = serde_json::from_value(json!({
        "zone": zone, "name": name, "type": rtype, "content": content, "ttl": 300, "proxied": false
    }))
    .unwrap();
    Desired {
        address: format!("dns_record.{name}"),
        kind: "dns_record".into(),
        attrs,
        settings: Attrs::new(),
    }
}

fn created(r: &infra::providers::Result<BatchResult>) -> &Observed {
    match r {
        Ok(BatchResult::Created(o) | BatchResult::Updated(o)) => o,
        other => panic!("expected a created/updated object, got {other:?}"),
    }
}

fn patches(proxy: &FaultProxy) -> usize {
    proxy.faults_for("PATCH").len()
}

fn setup() -> (Pdns, FaultProxy, PowerDns) {
    let pdns = Pdns::start(&[A, B]);
    let proxy = FaultProxy::start(pdns.api_port);
    let p = provider(&proxy.url(), Some(&[A, B]));
    (pdns, proxy, p)
}

#[tokio::test]
async fn one_patch_per_zone_and_one_result_per_op() {
    let (pdns, proxy, p) = setup();
    // Someone else's rrset, and two of ours to change later.
    pdns.patch(
        A,
        json!([{"name": "taken.a.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
        "records": [{"content": "192.0.2.1", "disabled": false}],
        "comments": [{"content": "hand-made", "account": "ops"}]}]),
    );
    let first = p
        .apply_batch(vec![
            BatchOp::Create(record("keep", B, "A", "10.0.0.1")),
            BatchOp::Create(record("gone", B, "TXT", "bye")),
        ])
        .await;
    let keep = created(&first[0]).clone();
    let gone = created(&first[1]).clone();
    assert_eq!(patches(&proxy), 1);

    let ops = vec![
        BatchOp::Create(record("w1", A, "A", "10.0.1.1")),
        BatchOp::Create(record("taken", A, "A", "10.0.1.9")),
        BatchOp::Update {
            id: keep.id.clone(),
            desired: record("keep", B, "A", "10.0.0.2"),
            live: keep,
        },
        BatchOp::Delete {
            kind: "dns_record".into(),
            id: gone.id.clone(),
            address: "dns_record.gone".into(),
        },
        BatchOp::Create(record("w2", A, "CNAME", "w1.a.test")),
        BatchOp::Delete {
            kind: "dns_record".into(),
            id: "a.test/never/A".into(),
            address: "dns_record.never".into(),
        },
    ];
    let out = p.apply_batch(ops).await;
    assert_eq!(out.len(), 6);
    assert_eq!(created(&out[0]).id, "a.test/w1/A/10.0.1.1");
    assert!(
        matches!(&out[1], Err(ProviderError::NotOwned(m)) if m.contains("a.test/taken/A") && m.contains("infra import")),
        "{:?}",
        out[1]
    );
    assert_eq!(created(&out[2]).attrs["content"], "10.0.0.2");
    assert!(matches!(out[3], Ok(BatchResult::Deleted)));
    assert_eq!(created(&out[4]).owner.as_deref(), Some("dns_record.w2"));
    assert!(
        matches!(out[5], Ok(BatchResult::Deleted)),
        "deleting what is not there is done"
    );
    assert_eq!(patches(&proxy), 3, "one PATCH for a.test, one for b.test");

    // What the results said is what the server holds, and what a refresh reads.
    let live = p.list("dns_record").await.unwrap();
    let ours: Vec<(&str, &Value)> = live
        .iter()
        .filter(|o| o.owner.is_some())
        .map(|o| (o.id.as_str(), &o.attrs["content"]))
        .collect();
    assert_eq!(
        ours,
        vec![
            ("a.test/w1/A/10.0.1.1", &json!("10.0.1.1")),
            ("a.test/w2/CNAME/w1.a.test.", &json!("w1.a.test")),
            ("b.test/keep/A/10.0.0.2", &json!("10.0.0.2")),
        ]
    );
    for r in out.iter().filter_map(|r| r.as_ref().ok()) {
        if let BatchResult::Created(o) | BatchResult::Updated(o) = r {
            assert_eq!(
                Some(o),
                live.iter().find(|l| l.id == o.id),
                "result equals the read-back"
            );
        }
    }
    let taken = pdns.rrset(A, "taken.a.test", "A").unwrap();
    assert_eq!(
        taken["records"][0]["content"], "192.0.2.1",
        "foreign rrset untouched"
    );
}

#[tokio::test]
async fn a_zone_the_api_rejects_fails_all_its_ops_and_only_those() {
    let (pdns, proxy, p) = setup();
    let out = p
        .apply_batch(vec![
            BatchOp::Create(record("fine", A, "A", "10.0.0.1")),
            BatchOp::Create(record("good", B, "A", "10.0.0.2")),
            // Valid records, which PowerDNS refuses together: CNAME and other data.
            BatchOp::Create(record("bad", B, "A", "10.0.0.3")),
            BatchOp::Create(record("bad", B, "CNAME", "good.b.test")),
        ])
        .await;
    created(&out[0]);
    for r in &out[1..] {
        match r {
            Err(ProviderError::Rejected {
                status: Some(422),
                message,
            }) => {
                assert!(
                    message.contains("bad.b.test"),
                    "the API's own words: {message}"
                )
            }
            other => panic!("expected the zone's 422, got {other:?}"),
        }
    }
    assert!(
        pdns.rrset(B, "good.b.test", "A").is_none(),
        "a PATCH is all or nothing"
    );
    assert_eq!(patches(&proxy), 2);
}

#[tokio::test]
async fn transient_failures_are_marked_so_the_engine_retries() {
    let (pdns, proxy, p) = setup();
    let op = || {
        vec![
            BatchOp::Create(record("www", A, "A", "10.0.0.1")),
            BatchOp::Create(record("api", A, "A", "10.0.0.2")),
        ]
    };

    proxy.on("PATCH", "/zones/", 1, Fault::Status429);
    for r in p.apply_batch(op()).await {
        match r {
            Err(ProviderError::Transient {
                retry_after,
                message,
            }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(1)));
                assert!(
                    message.contains("429") && message.contains("slow down"),
                    "{message}"
                );
            }
            other => panic!("expected transient, got {other:?}"),
        }
    }
    proxy.on("PATCH", "/zones/", 1, Fault::Status500);
    assert!(p
        .apply_batch(op())
        .await
        .iter()
        .all(|r| matches!(r, Err(e) if e.is_transient())));
    proxy.on("PATCH", "/zones/", 1, Fault::Hang(Duration::from_secs(20)));
    let hung = p.apply_batch(op()).await;
    assert!(
        matches!(&hung[0], Err(ProviderError::Transient { message, .. }) if message.contains("no answer within 2 s")),
        "{hung:?}"
    );
    // Nothing was written by the failed tries; the next one goes through.
    assert!(pdns.rrset(A, "www.a.test", "A").is_none());
    let out = p.apply_batch(op()).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");

    let down = provider("http://127.0.0.1:9", Some(&[A]));
    let refused = down.apply_batch(op()).await;
    assert!(
        matches!(&refused[0], Err(ProviderError::Transient { message, .. }) if message.contains("cannot connect")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn refresh_reads_each_zone_once() {
    let (pdns, proxy, p) = setup();
    pdns.create_zone("other.test");
    p.list("dns_record").await.unwrap();
    let gets = |proxy: &FaultProxy| {
        proxy
            .seen()
            .into_iter()
            .filter(|s| s.method == "GET")
            .map(|s| s.path)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        gets(&proxy).len(),
        2,
        "zones setting: one GET per named zone: {:?}",
        gets(&proxy)
    );
    let all = provider(&proxy.url(), None);
    let live = all.list("dns_record").await.unwrap();
    assert_eq!(
        gets(&proxy).len(),
        2 + 1 + 3,
        "no setting: the zone list, then each zone"
    );
    assert!(live.iter().any(|o| o.id.starts_with("other.test/@/NS/")));
    // A named zone the server lacks holds nothing (creates there fail clearly).
    let missing = provider(&proxy.url(), Some(&["missing.test"]));
    assert!(missing.list("dns_record").await.unwrap().is_empty());
    let out = missing
        .create(&record("x", "missing.test", "A", "10.0.0.1"))
        .await;
    assert!(
        matches!(&out, Err(ProviderError::Rejected { message, .. }) if message.contains("zone missing.test does not exist")),
        "{out:?}"
    );
    // A wrong key is an authentication error (not retried), and the key is not in it.
    let settings = Settings {
        api_url: proxy.url(),
        api_key: Secret::new("wrong-key-123"),
        server_id: "localhost".into(),
        zones: None,
        timeout: Duration::from_secs(2),
    };
    let wrong = PowerDns::new(settings, "lab").unwrap();
    match wrong.list("dns_record").await {
        Err(ProviderError::Auth(m)) => {
            assert!(m.contains("401") && !m.contains("wrong-key-123"), "{m}")
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
}

#[tokio::test]
async fn adopt_marks_a_foreign_rrset_and_keeps_its_comments() {
    let (pdns, _proxy, p) = setup();
    pdns.patch(
        A,
        json!([{"name": "old.a.test.", "type": "A", "ttl": 60, "changetype": "REPLACE",
        "records": [{"content": "192.0.2.5", "disabled": false}],
        "comments": [{"content": "set up by hand in 2019", "account": "ops"}]}]),
    );
    let o = p
        .adopt("dns_record", "a.test/old/A", "dns_record.old")
        .await
        .unwrap();
    assert_eq!(o.owner.as_deref(), Some("dns_record.old"));
    assert_eq!(o.attrs["ttl"], 60);
    let r = pdns.rrset(A, "old.a.test", "A").unwrap();
    let comments: Vec<&Value> = r["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["content"])
        .collect();
    assert_eq!(
        comments,
        vec![
            "set up by hand in 2019",
            "infra:lab/dns_record.old 192.0.2.5"
        ]
    );
    // An update through infra keeps the hand-written comment too.
    let out = p
        .update("a.test/old/A", &record("old", A, "A", "192.0.2.6"), &o)
        .await
        .unwrap();
    assert_eq!(out.attrs["content"], "192.0.2.6");
    assert_eq!(
        pdns.rrset(A, "old.a.test", "A").unwrap()["comments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let again = p
        .adopt("dns_record", "a.test/old/A", "dns_record.other")
        .await;
    assert!(
        matches!(again, Err(ProviderError::NotOwned(_))),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_huge_zone_change_is_split_under_the_servers_body_limit() {
    // 15,000 rrsets are ~2.4 MB of JSON: over PowerDNS's default 2 MB body limit.
    let (pdns, proxy, p) = setup();
    let ops: Vec<BatchOp> = (0..15_000)
        .map(|i| {
            BatchOp::Create(record(
                &format!("h{i}"),
                A,
                "A",
                &format!("10.1.{}.{}", i / 256, i % 256),
            ))
        })
        .collect();
    let out = p.apply_batch(ops).await;
    assert!(
        out.iter().all(Result::is_ok),
        "{:?}",
        out.iter().find(|r| r.is_err())
    );
    assert!(patches(&proxy) >= 2, "split into several PATCHes");
    assert_eq!(pdns.rrsets(A).len(), 15_000 + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_single_writes_succeed() {
    // The engine without batching sends up to 10 creates at once; the sqlite
    // backend answers concurrent writes with 500 "database is locked", so the
    // provider sends one PATCH at a time.
    let (pdns, _proxy, p) = setup();
    let p = std::sync::Arc::new(p);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let p = p.clone();
        tasks.spawn(async move {
            p.create(&record(&format!("c{i}"), A, "A", &format!("10.2.0.{i}")))
                .await
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(pdns.rrsets(A).len(), 30 + 2);
}
