//! The Proxmox fake's contract checker, checked: requests PVE would refuse are
//! refused and recorded, replies that break `returns` are caught, and the
//! parameters the provider sends mean the same in PVE 8.4 and 9.1. The contract
//! is the official PVE API description, `../shared/contracts/proxmox/pve-{8.4,9.1}-api-subset.json`
//! (extracted from proxmox/pve-docs `api-viewer/apidata.js`, AGPL-3.0-or-later,
//! © Proxmox Server Solutions GmbH), loaded at run time and never copied here.

#[path = "support/proxmox_fake/mod.rs"]
mod proxmox_fake;

use proxmox_fake::{FakePve, TEMPLATE};
use serde_json::{json, Value};

/// The checker itself: requests that break the contract are answered as PVE would
/// and recorded; replies that break `returns` are caught.
#[test]
fn the_contract_checker_catches_what_pve_would_refuse() {
    let pve = FakePve::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fp = infra::providers::proxmox::tls::parse_fingerprint(&pve.fingerprint).unwrap();
    let (tls, _) = infra::providers::proxmox::tls::pinned_config(Some(fp));
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let base = format!("{}/api2/json", pve.endpoint());
    let auth = format!("PVEAPIToken={}", proxmox_fake::token());
    let send = |method: reqwest::Method, path: &str, body: &str, auth: Option<&str>| {
        let mut req = http.request(method, format!("{base}{path}"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if !body.is_empty() {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.to_string());
        }
        rt.block_on(async {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        })
    };
    use reqwest::Method;
    // (method, path, body, ticket, expected status, expected text)
    type Case<'a> = (Method, &'a str, String, Option<&'a str>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/version",
            String::new(),
            None,
            401,
            "no well-formed PVEAPIToken",
        ),
        (
            Method::GET,
            "/version",
            String::new(),
            Some("Bearer abc"),
            401,
            "no well-formed PVEAPIToken",
        ),
        (
            Method::GET,
            "/nodes/pve1/lxc/100/snapshot",
            String::new(),
            Some(&auth),
            501,
            "no such path",
        ),
        (
            Method::DELETE,
            "/cluster/nextid",
            String::new(),
            Some(&auth),
            501,
            "has no DELETE method",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            "vmid=100&hostname=x".into(),
            Some(&auth),
            400,
            "ostemplate: property is missing",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=100&ostemplate={TEMPLATE}&start=true"),
            Some(&auth),
            400,
            "start: type check ('boolean')",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=100&ostemplate={TEMPLATE}&net0=name%3Deth0%2Cbrigde%3Dvmbr0"),
            Some(&auth),
            400,
            "unknown key 'brigde'",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=100&ostemplate={TEMPLATE}&net0=name%3Deth0%2Cip%3D10.0.0.300%2F24"),
            Some(&auth),
            400,
            "net0: invalid format - ip",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=100&ostemplate={TEMPLATE}&rootfs=size%3D8G"),
            Some(&auth),
            400,
            "property 'volume' is missing",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=100&ostemplate={TEMPLATE}&tags=infra%3Ahomelab%2Fx"),
            Some(&auth),
            400,
            "format 'pve-tag'",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=99&ostemplate={TEMPLATE}"),
            Some(&auth),
            400,
            "minimum value of 100",
        ),
        (
            Method::POST,
            "/nodes/pve1/lxc",
            format!("vmid=100&ostemplate={TEMPLATE}&cores=2&colour=red"),
            Some(&auth),
            400,
            "colour: property is not defined",
        ),
        (
            Method::GET,
            "/cluster/resources?type=vms",
            String::new(),
            Some(&auth),
            400,
            "enumeration",
        ),
        (
            Method::PUT,
            "/nodes/pve1/lxc/100/resize",
            "disk=rootfs&size=8GiB".into(),
            Some(&auth),
            400,
            "regex pattern",
        ),
    ];
    let mut expected = Vec::new();
    for (method, path, body, auth, status, needle) in cases {
        let (got, text) = send(method.clone(), path, &body, auth);
        assert_eq!(got, status, "{method} {path} {body}: {text}");
        if status == 400 {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["data"], Value::Null);
            assert!(v["errors"].is_object(), "PVE's 400 envelope: {text}");
        }
        expected.push(needle);
    }
    let violations = pve.violations();
    assert_eq!(violations.len(), expected.len(), "{violations:#?}");
    for (v, needle) in violations.iter().zip(&expected) {
        assert!(v.contains(needle), "{v:?} should mention {needle:?}");
    }
    // A well-formed request is clean, and its reply passes the returns schema.
    let (status, text) = send(Method::GET, "/cluster/nextid", "", Some(&auth));
    assert_eq!((status, text.as_str()), (200, r#"{"data":"100"}"#));
    assert_eq!(pve.violations().len(), expected.len());

    // Replies: a wrong type, a missing required field, an undeclared field where
    // additionalProperties is 0 — all caught.
    let schema = proxmox_fake::Schema::load("9.1");
    let info = |p: &str, m: &str| schema.info(p, m).unwrap()["returns"].clone();
    let mut problems = Vec::new();
    schema.check_return(
        &info("/nodes/{node}/tasks/{upid}/status", "GET"),
        &json!({"status": "done"}),
        "task",
        &mut problems,
    );
    schema.check_return(
        &info("/cluster/resources", "GET"),
        &json!([{"id": "lxc/100", "type": "lxc", "vmid": "x"}]),
        "resources",
        &mut problems,
    );
    schema.check_return(
        &info("/nodes/{node}/lxc/{vmid}/config", "GET"),
        &json!({"cores": 1}),
        "config",
        &mut problems,
    );
    let text = problems.join("\n");
    for needle in [
        "required property upid missing",
        "resources[0].vmid: expected integer",
        "config: required property digest missing",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

/// What changed between the two contracts in what the provider sends (NOTES §7.5):
/// a new upstream schema shows up here first.
#[test]
fn the_provider_fits_both_pve_8_4_and_9_1() {
    let (old, new) = (
        proxmox_fake::Schema::load("8.4"),
        proxmox_fake::Schema::load("9.1"),
    );
    let used: &[(&str, &str, &[&str])] = &[
        (
            "/nodes/{node}/lxc",
            "POST",
            &[
                "vmid",
                "ostemplate",
                "hostname",
                "cores",
                "memory",
                "swap",
                "rootfs",
                "net[n]",
                "ssh-public-keys",
                "unprivileged",
                "features",
                "start",
                "tags",
                "description",
            ],
        ),
        (
            "/nodes/{node}/lxc/{vmid}/config",
            "PUT",
            &[
                "cores",
                "memory",
                "net[n]",
                "hostname",
                "tags",
                "description",
                "digest",
            ],
        ),
        ("/nodes/{node}/lxc/{vmid}/resize", "PUT", &["disk", "size"]),
        (
            "/nodes/{node}/lxc/{vmid}",
            "DELETE",
            &["purge", "destroy-unreferenced-disks"],
        ),
        (
            "/nodes/{node}/qemu",
            "POST",
            &[
                "vmid",
                "name",
                "cores",
                "memory",
                "scsi[n]",
                "scsihw",
                "net[n]",
                "ipconfig[n]",
                "ostype",
                "start",
                "tags",
                "description",
            ],
        ),
        (
            "/nodes/{node}/qemu/{vmid}/config",
            "PUT",
            &[
                "cores",
                "memory",
                "ipconfig[n]",
                "name",
                "tags",
                "description",
                "digest",
            ],
        ),
        ("/nodes/{node}/qemu/{vmid}/resize", "PUT", &["disk", "size"]),
        (
            "/nodes/{node}/qemu/{vmid}",
            "DELETE",
            &["purge", "destroy-unreferenced-disks"],
        ),
        (
            "/nodes/{node}/storage/{storage}/content",
            "GET",
            &["content"],
        ),
        ("/cluster/resources", "GET", &["type"]),
    ];
    // Same meaning in both, ignoring prose and defaults (infra sends every value it
    // cares about); 9.1 may only add optional sub-keys.
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        !["description", "verbose_description", "typetext", "default"]
                            .contains(&k.as_str())
                    })
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let mut added = Vec::new();
    for (path, method, params) in used {
        for s in [&old, &new] {
            assert!(
                s.info(path, method).is_some(),
                "{method} {path} missing in {}",
                s.version
            );
        }
        for p in *params {
            let (a, b) = (
                strip(&old.info(path, method).unwrap()["parameters"]["properties"][*p]),
                strip(&new.info(path, method).unwrap()["parameters"]["properties"][*p]),
            );
            assert!(
                a.is_object() && b.is_object(),
                "{method} {path} lacks `{p}` in one release"
            );
            let (mut a, mut b) = (
                a.as_object().unwrap().clone(),
                b.as_object().unwrap().clone(),
            );
            if let (Some(Value::Object(fa)), Some(Value::Object(fb))) =
                (a.remove("format"), b.remove("format"))
            {
                // Sub-keys infra writes must mean the same; others may come and go.
                let sent = [
                    "name", "bridge", "ip", "gw", "model", "volume", "size", "file", "nesting",
                    "keyctl", "fuse", "mknod", "current",
                ];
                for (k, v) in &fa {
                    match fb.get(k) {
                        None if !sent.contains(&k.as_str()) => {
                            added.push(format!("{method} {path} {p}.{k} (removed)"))
                        }
                        other => assert_eq!(
                            Some(v),
                            other,
                            "`{p}.{k}` of {method} {path} changed in 9.1"
                        ),
                    }
                }
                for (k, v) in fb.iter().filter(|(k, _)| !fa.contains_key(*k)) {
                    assert_eq!(v["optional"], json!(1), "9.1 added a required `{p}.{k}`");
                    added.push(format!("{method} {path} {p}.{k}"));
                }
            }
            assert_eq!(a, b, "`{p}` of {method} {path} differs between 8.4 and 9.1");
        }
    }
    // For people reading the test log when a new upstream schema arrives.
    eprintln!(
        "8.4 → 9.1 in parameters infra sends:\n  {}",
        added.join("\n  ")
    );
    assert!(
        added.contains(&"POST /nodes/{node}/lxc net[n].host-managed".to_string()),
        "{added:?}"
    );
}
