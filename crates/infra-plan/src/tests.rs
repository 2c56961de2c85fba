//! The diff on hand-built inputs: one behaviour per test, no files, no providers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::{diff, Action, DesiredInput, Input, LiveObject, Plan};
use infra_core::spec::Attrs;
use infra_core::state::ResourceState;
use infra_kit::KindSupport;

fn attrs(v: Value) -> Attrs {
    serde_json::from_value(v).unwrap()
}

fn file(name: &str, a: Value) -> DesiredInput {
    DesiredInput {
        address: format!("file.{name}"),
        kind: "file".into(),
        provider: "local".into(),
        attrs: attrs(a),
        settings: Attrs::new(),
        depends_on: vec![],
        group: None,
        support: None,
        provider_kind: "file".into(),
    }
}

fn live(name: &str, a: Value) -> (String, LiveObject) {
    (
        format!("file.{name}"),
        LiveObject {
            id: format!("id-{name}"),
            provider: "local".into(),
            kind: "file".into(),
            attrs: Arc::new(attrs(a)),
            adopted: false,
            unmarked: false,
        },
    )
}

fn recorded(live: &BTreeMap<String, LiveObject>) -> BTreeMap<String, ResourceState> {
    live.iter()
        .map(|(a, l)| {
            let r = ResourceState {
                kind: l.kind.clone(),
                provider: l.provider.clone(),
                id: l.id.clone(),
                attrs: Attrs::clone(&l.attrs),
                depends_on: vec![],
                group: None,
                settings: None,
                unmarked: false,
            };
            (a.clone(), r)
        })
        .collect()
}

struct Case {
    desired: Vec<DesiredInput>,
    live: BTreeMap<String, LiveObject>,
    targets: BTreeSet<String>,
    replace: BTreeSet<String>,
    destroy: bool,
    now: i64,
}

impl Case {
    fn new(desired: Vec<DesiredInput>, live: Vec<(String, LiveObject)>) -> Case {
        Case {
            desired,
            live: live.into_iter().collect(),
            targets: BTreeSet::new(),
            replace: BTreeSet::new(),
            destroy: false,
            now: 0,
        }
    }

    fn plan(&self) -> Plan {
        let vars = Attrs::new();
        let recorded = recorded(&self.live);
        let input = Input {
            desired: self.desired.clone(),
            vars: &vars,
            recorded: &recorded,
            live: &self.live,
            refreshed: true,
            targets: self.targets.clone(),
            replace: self.replace.clone(),
            destroy: self.destroy,
            spec_digest: String::new(),
            spec_commit: None,
            state_lineage: String::new(),
            state_serial: 0,
            now: self.now,
        };
        diff(&input).expect("the diff succeeds")
    }

    fn actions(&self) -> Vec<(String, Action)> {
        self.plan()
            .actions()
            .map(|c| (c.address.clone(), c.action))
            .collect()
    }
}

fn one(address: &str, action: Action) -> Vec<(String, Action)> {
    vec![(address.to_string(), action)]
}

const A: &str = r#"{"path": "a.txt", "content": "x", "mode": "0644"}"#;

fn a() -> Value {
    serde_json::from_str(A).unwrap()
}

#[test]
fn a_missing_object_is_created() {
    let c = Case::new(vec![file("a", a())], vec![]);
    assert_eq!(c.actions(), one("file.a", Action::Create));
}

#[test]
fn an_equal_object_needs_nothing() {
    let c = Case::new(vec![file("a", a())], vec![live("a", a())]);
    assert!(c.actions().is_empty(), "{:?}", c.actions());
}

#[test]
fn a_changed_attribute_is_an_update() {
    let c = Case::new(
        vec![file(
            "a",
            json!({"path": "a.txt", "content": "y", "mode": "0644"}),
        )],
        vec![live("a", a())],
    );
    assert_eq!(c.actions(), one("file.a", Action::Update));
}

#[test]
fn a_force_new_attribute_is_a_replacement() {
    let c = Case::new(
        vec![file(
            "a",
            json!({"path": "b.txt", "content": "x", "mode": "0644"}),
        )],
        vec![live("a", a())],
    );
    let plan = c.plan();
    let change = plan.actions().next().unwrap();
    assert_eq!(change.action, Action::Replace);
    assert!(
        change.replace_paths.iter().any(|p| p == "path"),
        "{:?}",
        change.replace_paths
    );
}

#[test]
fn an_attribute_the_api_never_reports_is_no_change_when_the_live_object_lacks_it() {
    // An imported guest: the template it was made from is unknown to the API.
    static MODE_UNREADABLE: KindSupport = KindSupport {
        write_only: &["mode"],
        ..KindSupport::plain("file")
    };
    let mut spec = a();
    spec["mode"] = json!("0600");
    let mut d = file("a", spec);
    d.support = Some(&MODE_UNREADABLE);
    let mut without_mode = a();
    without_mode.as_object_mut().unwrap().remove("mode");
    let c = Case::new(vec![d.clone()], vec![live("a", without_mode)]);
    assert_eq!(c.actions(), vec![], "no change, above all no replacement");
    // Read back (infra made it, and noted it): a different value still counts.
    let c = Case::new(vec![d], vec![live("a", a())]);
    assert_eq!(c.actions(), one("file.a", Action::Update));
}

#[test]
fn a_provider_that_cannot_change_an_attribute_in_place_replaces() {
    static CONTENT_FIXED: KindSupport = KindSupport {
        replace_on: &["content"],
        ..KindSupport::plain("file")
    };
    let mut d = file(
        "a",
        json!({"path": "a.txt", "content": "y", "mode": "0644"}),
    );
    d.support = Some(&CONTENT_FIXED);
    let c = Case::new(vec![d], vec![live("a", a())]);
    assert_eq!(c.actions(), one("file.a", Action::Replace));
}

#[test]
fn a_recorded_object_no_longer_declared_is_deleted() {
    let c = Case::new(vec![], vec![live("a", a())]);
    assert_eq!(c.actions(), one("file.a", Action::Delete));
}

#[test]
fn replace_forces_a_replacement_of_an_equal_object() {
    let mut c = Case::new(vec![file("a", a())], vec![live("a", a())]);
    c.replace.insert("file.a".into());
    assert_eq!(c.actions(), one("file.a", Action::Replace));
}

#[test]
fn targets_limit_the_plan() {
    let mut c = Case::new(
        vec![
            file("a", a()),
            file("b", json!({"path": "b.txt", "content": "x"})),
        ],
        vec![],
    );
    c.targets.insert("file.b".into());
    assert_eq!(c.actions(), one("file.b", Action::Create));
}

#[test]
fn destroy_deletes_everything_recorded() {
    let mut c = Case::new(
        vec![file("a", a())],
        vec![
            live("a", a()),
            live("b", json!({"path": "b.txt", "content": "x"})),
        ],
    );
    c.destroy = true;
    let mut got = c.actions();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("file.a".to_string(), Action::Delete),
            ("file.b".to_string(), Action::Delete)
        ]
    );
}

#[test]
fn a_reference_resolves_to_the_other_resources_value() {
    let mut b = file("b", json!({"path": "b.txt", "content": "${file.a.path}"}));
    b.depends_on = vec!["file.a".into()];
    let c = Case::new(vec![file("a", a()), b], vec![]);
    let plan = c.plan();
    let change = plan.actions().find(|c| c.address == "file.b").unwrap();
    assert_eq!(change.after.as_ref().unwrap()["content"], json!("a.txt"));
}

#[test]
fn a_reference_to_a_value_known_only_after_apply_is_unknown() {
    let mut b = file("b", json!({"path": "b.txt", "content": "${file.a.id}"}));
    b.depends_on = vec!["file.a".into()];
    let c = Case::new(vec![file("a", a()), b], vec![]);
    let plan = c.plan();
    let change = plan.actions().find(|c| c.address == "file.b").unwrap();
    assert!(
        change.after_unknown.iter().any(|a| a == "content"),
        "{:?}",
        change.after_unknown
    );
    assert!(change
        .after
        .as_ref()
        .unwrap()
        .get("content")
        .is_none_or(|v| v != "${file.a.id}"));
}

fn certificate(live_attrs: Option<Value>, renew_before: i64) -> Case {
    let want = json!({"domains": ["a.example.com"], "challenge": "dns-01", "key_type": "ec256", "renew_before": renew_before});
    let d = DesiredInput {
        address: "certificate.a".into(),
        kind: "certificate".into(),
        provider: "acme".into(),
        ..file("a", want)
    };
    let live = live_attrs.map(|l| {
        let (_, mut o) = live("a", l);
        o.kind = "certificate".into();
        o.provider = "acme".into();
        ("certificate.a".to_string(), o)
    });
    let mut c = Case::new(vec![d], live.into_iter().collect());
    c.now = infra_core::time::parse_utc("2030-01-01T00:00:00Z").unwrap();
    c
}

fn issued(not_after: &str, renew_before: i64) -> Value {
    json!({"domains": ["a.example.com"], "challenge": "dns-01", "key_type": "ec256",
           "renew_before": renew_before, "not_after": not_after, "fingerprint": "aa",
           "cert_path": "/c/a.crt", "key_path": "/c/a.key", "id": "x"})
}

#[test]
fn a_certificate_inside_its_window_is_renewed() {
    let c = certificate(Some(issued("2030-01-13T00:00:00Z", 30)), 30);
    let plan = c.plan();
    let change = plan.actions().next().expect("a change");
    assert_eq!(change.action, Action::Update);
    assert_eq!(
        change.reasons,
        vec![crate::Reason::Renew {
            expires_in_days: 12
        }]
    );
    // What the new certificate says is unknown; where it lives is not.
    assert!(change.after_unknown.contains(&"fingerprint".to_string()));
    assert_eq!(change.after.as_ref().unwrap()["cert_path"], "/c/a.crt");
}

#[test]
fn a_certificate_outside_its_window_is_left_alone() {
    let c = certificate(Some(issued("2030-03-01T00:00:00Z", 30)), 30);
    assert!(c.actions().is_empty(), "{:?}", c.actions());
    // A wider window takes it in: the setting changes and it is renewed.
    let c = certificate(Some(issued("2030-03-01T00:00:00Z", 30)), 90);
    let plan = c.plan();
    let change = plan.actions().next().expect("a change");
    assert!(matches!(
        change.reasons[..],
        [crate::Reason::Renew {
            expires_in_days: 59
        }]
    ));
}
