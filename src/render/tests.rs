//! Snapshot tests for the three renderers. Plans are built by hand (no diff, no
//! provider) so each fixture shows exactly one situation; every fixture is
//! rendered in all three formats. Review the `.snap` files as the output spec.

use serde_json::{json, Value};

use super::{human, json, markdown};
use crate::plan::{Action, Drift, Plan, Reason, ResourceChange, SharedAttrs};
use crate::spec::Attrs;

/// Every secret in the fixtures contains this; no rendering may print it.
const SECRET: &str = "hunter2";

fn attrs(value: Value) -> Attrs {
    serde_json::from_value(value).expect("fixture attributes are an object")
}

/// One side of a change (changes share their attributes).
fn shared(a: Attrs) -> Option<SharedAttrs> {
    Some(a.into())
}

fn change(address: &str, action: Action) -> ResourceChange {
    let kind = address.split_once('.').expect("kind.name").0;
    ResourceChange {
        address: address.into(),
        kind: kind.into(),
        provider: "local".into(),
        action,
        id: None,
        before: None,
        after: None,
        after_unknown: Vec::new(),
        sensitive: Vec::new(),
        replace_paths: Vec::new(),
        restart_paths: Vec::new(),
        reasons: Vec::new(),
        depends_on: Vec::new(),
        group: None,
        beside: None,
    }
}

fn plan(changes: Vec<ResourceChange>, drift: Vec<Drift>) -> Plan {
    Plan {
        format_version: "1.0".into(),
        // Fixed, not CARGO_PKG_VERSION, so a release does not churn snapshots.
        infra_version: "0.0.0-test".into(),
        changes,
        drift,
        spec_digest: "sha256:5f0c".into(),
        spec_commit: None,
        state_lineage: "3b1e-lineage".into(),
        state_serial: 7,
        targets: Vec::new(),
        replace: Vec::new(),
        destroy: false,
        refreshed: true,
    }
}

fn motd() -> Attrs {
    attrs(
        json!({"path": "etc/motd", "content": "Welcome to web1\nManaged by infra\n",
                 "mode": "0644", "id": "etc/motd"}),
    )
}

fn create_plan() -> Plan {
    let mut file = change("file.motd", Action::Create);
    let mut after = motd();
    after.remove("id");
    file.after = shared(after);
    file.after_unknown = vec!["id".into()];
    let mut dns = change("dns_record.www", Action::Create);
    dns.after = shared(attrs(
        json!({"zone": "example.com", "name": "www", "type": "A",
        "content": "10.0.0.5", "ttl": 300, "proxied": false, "fqdn": "www.example.com"}),
    ));
    dns.after_unknown = vec!["id".into()];
    plan(vec![dns, file], vec![])
}

fn web_before() -> Attrs {
    attrs(
        json!({"hostname": "web", "image": "debian-12", "cores": 1, "memory": 512,
        "command": "nginx -g 'daemon off;'", "ports": ["8080:80"], "start": true,
        "address": "10.0.0.5", "id": "ct-101"}),
    )
}

fn update_plan() -> Plan {
    let mut web = change("container.web", Action::Update);
    web.id = Some("ct-101".into());
    let mut after = web_before();
    after.remove("command");
    after.insert("cores".into(), json!(2));
    after.insert("ports".into(), json!(["8080:80", "8443:443"]));
    after.insert("gateway".into(), json!("10.0.0.1"));
    web.before = shared(web_before());
    web.after = shared(after);
    plan(vec![web], vec![])
}

fn replace_plan() -> Plan {
    let mut file = change("file.motd", Action::Replace);
    file.id = Some("etc/motd".into());
    let mut after = motd();
    after.remove("id");
    after.insert("path".into(), json!("etc/motd.d/infra"));
    after.insert("mode".into(), json!("0600"));
    file.before = shared(motd());
    file.after = shared(after);
    file.after_unknown = vec!["id".into()];
    file.replace_paths = vec!["path".into()];
    plan(vec![file], vec![])
}

/// `--replace file.motd`: nothing forces it, the user asked.
fn replace_requested_plan() -> Plan {
    let mut file = change("file.motd", Action::Replace);
    file.id = Some("etc/motd".into());
    let mut after = motd();
    after.remove("id");
    file.before = shared(motd());
    file.after = shared(after);
    file.after_unknown = vec!["id".into()];
    file.reasons = vec![Reason::ReplaceRequested];
    let mut p = plan(vec![file], vec![]);
    p.replace = vec!["file.motd".into()];
    p
}

/// A VM's memory grows in place but only takes effect at its next restart.
fn restart_plan() -> Plan {
    let mut vm = change("vm.db", Action::Update);
    vm.kind = "vm".into();
    vm.provider = "pve1".into();
    vm.id = Some("104".into());
    let before =
        attrs(json!({"hostname": "db", "cores": 2, "memory": 2048, "disk": 32, "id": "104"}));
    let mut after = before.clone();
    after.insert("memory".into(), json!(4096));
    after.insert("cores".into(), json!(4));
    vm.before = shared(before);
    vm.after = shared(after);
    vm.restart_paths = vec!["cores".into(), "memory".into()];
    plan(vec![vm], vec![])
}

fn delete_not_in_spec_plan() -> Plan {
    let mut old = change("file.old", Action::Delete);
    old.id = Some("old.txt".into());
    old.before = shared(attrs(
        json!({"path": "old.txt", "content": "bye", "mode": "0644", "id": "old.txt"}),
    ));
    old.reasons = vec![Reason::NotInSpec];
    plan(vec![old], vec![])
}

fn delete_destroy_plan() -> Plan {
    let mut file = change("file.motd", Action::Delete);
    file.before = shared(motd());
    file.reasons = vec![Reason::Destroy];
    let mut dns = change("dns_record.www", Action::Delete);
    dns.before = shared(attrs(
        json!({"zone": "example.com", "name": "www", "type": "A",
        "content": "10.0.0.5", "ttl": 300, "id": "rec-9"}),
    ));
    dns.reasons = vec![Reason::Destroy];
    let mut p = plan(vec![dns, file], vec![]);
    p.destroy = true;
    p
}

fn no_changes_plan() -> Plan {
    let mut file = change("file.motd", Action::NoOp);
    file.before = shared(motd());
    file.after = shared(motd());
    plan(vec![file], vec![])
}

fn drift_changed_plan() -> Plan {
    let mut outside = motd();
    outside.insert("mode".into(), json!("0666"));
    let drift = Drift {
        address: "file.motd".into(),
        before: Some(motd()),
        after: Some(outside.clone()),
        sensitive: vec![],
    };
    let mut file = change("file.motd", Action::Update);
    file.before = shared(outside);
    file.after = shared(motd());
    plan(vec![file], vec![drift])
}

fn drift_deleted_plan() -> Plan {
    let drift = Drift {
        address: "file.motd".into(),
        before: Some(motd()),
        after: None,
        sensitive: vec![],
    };
    let mut file = change("file.motd", Action::Create);
    let mut after = motd();
    after.remove("id");
    file.after = shared(after);
    file.after_unknown = vec!["id".into()];
    file.reasons = vec![Reason::DeletedOutOfBand];
    plan(vec![file], vec![drift])
}

fn drift_no_changes_plan() -> Plan {
    let recorded = attrs(json!({"server_name": "app.example.com",
        "upstream": "http://10.0.0.5:8080", "listen": "80", "websocket": false, "id": "app"}));
    let mut live = recorded.clone();
    live.insert("client_max_body_size".into(), json!("10m"));
    let drift = Drift {
        address: "proxy_site.app".into(),
        before: Some(recorded),
        after: Some(live.clone()),
        sensitive: vec![],
    };
    let mut site = change("proxy_site.app", Action::NoOp);
    site.before = shared(live.clone());
    site.after = shared(live);
    plan(vec![site], vec![drift])
}

fn sensitive_plan() -> Plan {
    let env = |secret: &str| json!({"API_KEY": format!("{SECRET}-{secret}")});
    let mut db = change("container.db", Action::Create);
    db.after = shared(attrs(json!({"hostname": "db", "image": "postgres:16",
        "env": {"POSTGRES_PASSWORD": format!("{SECRET}-db")}, "start": true})));
    db.after_unknown = vec!["address".into(), "id".into()];
    db.sensitive = vec!["env".into()];

    let app_before = attrs(json!({"hostname": "app", "env": env("old"), "cores": 1, "id": "ct-7"}));
    let mut app_after = app_before.clone();
    app_after.insert("env".into(), env("new"));
    app_after.insert("cores".into(), json!(2));
    let mut app = change("container.app", Action::Update);
    app.before = shared(app_before.clone());
    app.after = shared(app_after);
    app.sensitive = vec!["env".into()];

    let mut legacy = change("container.legacy", Action::Delete);
    legacy.before = shared(attrs(
        json!({"hostname": "legacy", "env": env("legacy"), "id": "ct-3"}),
    ));
    legacy.sensitive = vec!["env".into()];
    legacy.reasons = vec![Reason::NotInSpec];

    let mut drifted = app_before.clone();
    drifted.insert("env".into(), env("rotated"));
    let drift = Drift {
        address: "container.app".into(),
        before: Some(app_before),
        after: Some(drifted),
        sensitive: vec!["env".into()],
    };
    plan(vec![app, db, legacy], vec![drift])
}

fn nginx_conf(worker_connections: u32, gzip: bool) -> String {
    let mut lines: Vec<String> = vec![
        "user www-data;".into(),
        "worker_processes auto;".into(),
        "pid /run/nginx.pid;".into(),
        "".into(),
        "events {".into(),
        format!("    worker_connections {worker_connections};"),
        "}".into(),
        "".into(),
        "http {".into(),
        "    sendfile on;".into(),
        "    tcp_nopush on;".into(),
        "    types_hash_max_size 2048;".into(),
        "    include /etc/nginx/mime.types;".into(),
        "    default_type application/octet-stream;".into(),
        "    access_log /var/log/nginx/access.log;".into(),
        "    error_log /var/log/nginx/error.log;".into(),
    ];
    if gzip {
        lines.push("    gzip on;".into());
    }
    lines.extend(["    include /etc/nginx/conf.d/*.conf;".into(), "}".into()]);
    lines.join("\n") + "\n"
}

fn multiline_plan() -> Plan {
    let conf = |content: String| {
        attrs(json!({"path": "nginx.conf", "content": content, "mode": "0644", "id": "nginx.conf"}))
    };
    let mut file = change("file.nginx", Action::Update);
    file.before = shared(conf(nginx_conf(768, false)));
    file.after = shared(conf(nginx_conf(1024, true)));
    let mut notes = change("file.notes", Action::Update);
    notes.before = shared(attrs(json!({"path": "notes", "content": "one\ntwo"})));
    notes.after = shared(attrs(json!({"path": "notes", "content": "one\ntwo\n"})));
    plan(vec![file, notes], vec![])
}

fn adoption_plan() -> Plan {
    let mut file = change("file.motd", Action::Update);
    file.id = Some("etc/motd".into());
    let mut live = motd();
    live.insert("mode".into(), json!("0600"));
    file.before = shared(live);
    file.after = shared(motd());
    file.reasons = vec![Reason::Adopted];
    let dns_attrs = attrs(json!({"zone": "example.com", "name": "www", "type": "A",
        "content": "10.0.0.5", "ttl": 300, "id": "rec-9"}));
    let mut dns = change("dns_record.www", Action::NoOp);
    dns.before = shared(dns_attrs.clone());
    dns.after = shared(dns_attrs);
    dns.reasons = vec![Reason::Adopted];
    plan(vec![dns, file], vec![])
}

/// Found by marker and already as specified: nothing to change, but state to record.
fn adoption_only_plan() -> Plan {
    let mut p = adoption_plan();
    p.changes.retain(|c| c.action == Action::NoOp);
    p
}

/// One of everything, for the legend and the Markdown warning's ordering.
fn mixed_plan() -> Plan {
    let mut changes = Vec::new();
    for p in [
        create_plan(),
        update_plan(),
        replace_plan(),
        delete_not_in_spec_plan(),
    ] {
        changes.extend(p.changes);
    }
    changes[1].address = "file.banner".into(); // keep addresses distinct
                                               // Deleted outside infra and gone from the spec: drift, but nothing to do.
    let gone = attrs(json!({"path": "gone.txt", "content": "x", "mode": "0644", "id": "gone.txt"}));
    let drift = Drift {
        address: "file.gone".into(),
        before: Some(gone),
        after: None,
        sensitive: vec![],
    };
    plan(changes, vec![drift])
}

fn fixtures() -> Vec<(&'static str, Plan)> {
    vec![
        ("create", create_plan()),
        ("update", update_plan()),
        ("replace", replace_plan()),
        ("restart", restart_plan()),
        ("replace_requested", replace_requested_plan()),
        ("delete_not_in_spec", delete_not_in_spec_plan()),
        ("delete_destroy", delete_destroy_plan()),
        ("no_changes", no_changes_plan()),
        ("drift_changed", drift_changed_plan()),
        ("drift_deleted", drift_deleted_plan()),
        ("drift_no_changes", drift_no_changes_plan()),
        ("sensitive", sensitive_plan()),
        ("multiline", multiline_plan()),
        ("adoption", adoption_plan()),
        ("adoption_only", adoption_only_plan()),
        ("mixed", mixed_plan()),
    ]
}

#[test]
fn snapshots_in_all_formats() {
    for (name, plan) in fixtures() {
        insta::assert_snapshot!(format!("{name}_human"), human::render(&plan, false));
        insta::assert_snapshot!(format!("{name}_json"), json::render(&plan));
        insta::assert_snapshot!(format!("{name}_markdown"), markdown::render(&plan));
    }
}

#[test]
fn colour_only_when_asked() {
    let mut plan = mixed_plan();
    // File content carrying an escape code must not switch colour on by itself.
    let mut evil = change("file.evil", Action::Create);
    evil.after = shared(attrs(
        json!({"path": "evil", "content": "\u{1b}[31mred\nline\n"}),
    ));
    plan.changes.push(evil);
    let plain = human::render(&plan, false);
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("\\u001b[31mred"), "{plain}");
    assert!(human::render(&plan, true).contains("\x1b["));
}

#[test]
fn sensitive_values_never_printed() {
    for (name, plan) in fixtures() {
        let outputs = [
            human::render(&plan, false),
            human::render(&plan, true),
            json::render(&plan),
            markdown::render(&plan),
        ];
        for out in outputs {
            assert!(!out.contains(SECRET), "{name} leaks a secret:\n{out}");
        }
    }
    let json = json::render(&sensitive_plan());
    assert!(json.contains("\"(sensitive)\""));
}

#[test]
fn markdown_is_size_bounded() {
    let content: String = (0..80)
        .map(|i| format!("line {i} of a long generated file\n"))
        .collect();
    let changes = (0..400)
        .map(|i| {
            let mut c = change(&format!("file.f{i:03}"), Action::Create);
            c.after = shared(attrs(json!({"path": format!("f{i}"), "content": content})));
            c
        })
        .collect();
    let md = markdown::render(&plan(changes, vec![]));
    assert!(md.len() <= 65_000, "{}", md.len());
    let details = &md[md.find("<details>").expect("details block")..];
    assert!(details.len() <= 60_000, "{}", details.len());
    assert!(details.contains("<summary>Full plan (truncated)</summary>"));
    assert!(details.contains("more lines not shown"));
    assert!(details.ends_with("```\n\n</details>\n"));
    assert!(md.contains("| | …and 350 more | |"));
}

#[test]
fn lists_and_tables_print_as_toml_inline_values() {
    let mut ct = change("container.web", Action::Create);
    ct.kind = "container".into();
    ct.after = shared(attrs(json!({
        "proxmox.features": {"nesting": true, "odd key": 1},
        "ports": ["127.0.0.1:8080:80", "127.0.0.1:8443:443"],
        "proxmox.empty": {},
    })));
    let text = human::render(&plan(vec![ct], vec![]), false);
    for line in [
        r#"+ proxmox.features = { nesting = true, "odd key" = 1 }"#,
        r#"+ ports            = ["127.0.0.1:8080:80", "127.0.0.1:8443:443"]"#,
        "+ proxmox.empty    = {}",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
}
