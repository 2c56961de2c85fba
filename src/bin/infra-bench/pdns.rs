//! `infra-bench pdns`: infra against octoDNS on one PowerDNS server, side by side
//! in one run. It starts a private pdns_server on 127.0.0.1 (sqlite, caches off,
//! free ports, everything in a temp dir; stopped at the end), loads a zone of
//! 10,000 A records that infra already owns, then times (a) a no-change plan over
//! those 10,000 records and (b) an apply of 1,000 new ones, with `infra` and with
//! `octodns-sync` (octodns + octodns-powerdns from PyPI in a cached venv).
//! Wall time is the median of the runs; peak RSS (wait4) the largest.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::measure;

const ZONE: &str = "bench.test";
const KEY: &str = "bench-key";

pub fn run(infra: &Path, runs: usize, records: usize, new: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let server = Pdns::start(d);
    let venv = octodns_venv();
    println!("infra-bench pdns: PowerDNS {} on 127.0.0.1:{}, zone {ZONE} with {records} A records; median of {runs} runs, peak RSS = max over runs",
        server.version(), server.api_port);

    // The zone, with every rrset carrying infra's marker (as after an earlier apply).
    let rrsets: Vec<String> = (0..records).map(|i| rrset_json(i, true)).collect();
    let body = format!(
        r#"{{"name":"{ZONE}.","kind":"Native","nameservers":["ns1.{ZONE}."],"rrsets":[{}]}}"#,
        rrsets.join(",")
    );
    let (status, text) = server.call("POST", "/api/v1/servers/localhost/zones", &body);
    assert_eq!(status, 201, "creating the zone: {text}");

    // infra: a project with the same records; one apply adopts them into the state.
    let project = d.join("infra");
    write_project(&project, &server, records, 0);
    let env = [("PDNS_BENCH_KEY", KEY)];
    let (adopt, _) = measure(infra, &project, &["apply", "--yes", "--no-commit"], 1, &env);
    let (plan, plan_mem) = measure(
        infra,
        &project,
        &["plan", "--detailed-exitcode"],
        runs,
        &env,
    );
    // octoDNS: a YAML source with the same records, PowerDNS as the target.
    let octo = d.join("octodns");
    write_octodns(&octo, &server, records, 0);
    let sync = venv.join("bin/octodns-sync");
    let sync = sync.to_str().unwrap();
    let check = Command::new(sync)
        .arg("--config-file=config.yaml")
        .current_dir(&octo)
        .output()
        .expect("octodns-sync");
    let said = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(
        said.contains("No changes were planned"),
        "octoDNS should plan no changes:\n{said}"
    );
    let (oplan, oplan_mem) = measure(
        Path::new(sync),
        &octo,
        &["--config-file=config.yaml"],
        runs,
        &[],
    );

    // Apply `new` records: each run starts from the same zone and state.
    write_project(&project, &server, records, new);
    write_octodns(&octo, &server, records, new);
    let state = std::fs::read(project.join(".infra/state.json")).expect("state after adoption");
    let delete_new = || {
        let dels: Vec<String> = (records..records + new)
            .map(|i| format!(r#"{{"name":"r{i}.{ZONE}.","type":"A","changetype":"DELETE"}}"#))
            .collect();
        let (s, t) = server.call(
            "PATCH",
            &format!("/api/v1/servers/localhost/zones/{ZONE}."),
            &format!(r#"{{"rrsets":[{}]}}"#, dels.join(",")),
        );
        assert_eq!(s, 204, "resetting the zone: {t}");
    };
    let (mut infra_apply, mut octo_apply) = (Vec::new(), Vec::new());
    let (mut infra_apply_mem, mut octo_apply_mem) = (0f64, 0f64);
    for _ in 0..runs {
        std::fs::write(project.join(".infra/state.json"), &state).unwrap();
        let (t, m) = measure(infra, &project, &["apply", "--yes", "--no-commit"], 1, &env);
        assert_eq!(
            server.count(),
            records + new + 2,
            "infra created every record"
        );
        infra_apply.push(t);
        infra_apply_mem = infra_apply_mem.max(m);
        delete_new();
        let (t, m) = measure(
            Path::new(sync),
            &octo,
            &["--config-file=config.yaml", "--doit"],
            1,
            &[],
        );
        assert_eq!(
            server.count(),
            records + new + 2,
            "octoDNS created every record"
        );
        octo_apply.push(t);
        octo_apply_mem = octo_apply_mem.max(m);
        delete_new();
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (ia, oa) = (median(&mut infra_apply), median(&mut octo_apply));
    let (adopt_t, adopt_mem, dump_t, dump_mem) =
        adopt_rows(&server, d, infra, &venv, runs, records);
    println!(
        "(adopting the {records} records into infra's state took {:.2} s, once)",
        adopt.as_secs_f64()
    );
    println!(
        "{:<42} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "case", "infra s", "infra MiB", "octodns s", "octodns MiB", "ratio"
    );
    row(
        &format!("plan, no changes, {records} records"),
        plan,
        plan_mem,
        oplan,
        oplan_mem,
    );
    row(
        &format!("apply {new} new records"),
        ia,
        infra_apply_mem,
        oa,
        octo_apply_mem,
    );
    row(
        &format!("adopt a zone of {records} records"),
        adopt_t,
        adopt_mem,
        dump_t,
        dump_mem,
    );
    println!("ratio = octoDNS wall time / infra wall time; targets: infra plan <= 0.3 s and <= 100 MiB, apply of 1,000 <= 0.5 s, adopt of 10,000 <= 2 s");
    println!("(adopt: `infra adopt --no-commit` writes the spec files and the state; octoDNS: `octodns-dump` writes its YAML)");
}

/// `infra adopt` of a zone of `records` A records nobody marked, against
/// `octodns-dump` of the same zone: each run starts from an empty project.
fn adopt_rows(
    server: &Pdns,
    d: &Path,
    infra: &Path,
    venv: &Path,
    runs: usize,
    records: usize,
) -> (Duration, f64, Duration, f64) {
    const FOUND: &str = "found.test";
    let rrsets: Vec<String> = (0..records)
        .map(|i| rrset_json(i, false).replace(ZONE, FOUND))
        .collect();
    let body = format!(
        r#"{{"name":"{FOUND}.","kind":"Native","nameservers":["ns1.{FOUND}."],"rrsets":[{}]}}"#,
        rrsets.join(",")
    );
    let (status, text) = server.call("POST", "/api/v1/servers/localhost/zones", &body);
    assert_eq!(status, 201, "creating the zone to adopt: {text}");
    let project = d.join("adopt");
    let env = [("PDNS_BENCH_KEY", KEY)];
    let (mut times, mut mem) = (Vec::new(), 0f64);
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&project);
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            project.join("infra.toml"),
            format!("[project]\nname = \"bench\"\n\n[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:{}\"\napi_key = \"env:PDNS_BENCH_KEY\"\nzones = [\"{FOUND}\"]\n", server.api_port),
        )
        .unwrap();
        let (t, m) = measure(infra, &project, &["adopt", "--no-commit"], 1, &env);
        let text = std::fs::read_to_string(project.join("infra/dns-found-test.toml"))
            .expect("adopt wrote the zone's file");
        assert_eq!(
            text.matches("[dns_record.").count(),
            records + 1,
            "every record (and the apex NS) adopted"
        );
        times.push(t);
        mem = mem.max(m);
    }
    times.sort();
    let octo = d.join("octodns-dump");
    std::fs::create_dir_all(&octo).unwrap();
    std::fs::write(
        octo.join("config.yaml"),
        format!(
            "providers:\n  pdns:\n    class: octodns_powerdns.PowerDnsProvider\n    host: 127.0.0.1\n    port: {}\n    api_key: {KEY}\n    scheme: http\nzones:\n  {FOUND}.:\n    sources:\n    - pdns\n    targets: []\n",
            server.api_port
        ),
    )
    .unwrap();
    let dump = venv.join("bin/octodns-dump");
    let (dt, dm) = measure(
        &dump,
        &octo,
        &[
            "--config-file=config.yaml",
            "--output-dir=out",
            &format!("{FOUND}."),
            "pdns",
        ],
        runs,
        &[],
    );
    assert!(
        octo.join(format!("out/{FOUND}.yaml")).exists(),
        "octodns-dump wrote the zone"
    );
    (times[times.len() / 2], mem, dt, dm)
}

fn row(case: &str, it: Duration, im: f64, ot: Duration, om: f64) {
    println!(
        "{case:<42} {:>10.3} {:>10.1} {:>12.3} {:>12.1} {:>7.1}x",
        it.as_secs_f64(),
        im,
        ot.as_secs_f64(),
        om,
        ot.as_secs_f64() / it.as_secs_f64()
    );
}

fn content(i: usize) -> String {
    format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256)
}

fn rrset_json(i: usize, marked: bool) -> String {
    let comments = if marked {
        format!(r#","comments":[{{"content":"infra:bench/dns_record.r{i}","account":"infra"}}]"#)
    } else {
        String::new()
    };
    format!(
        r#"{{"name":"r{i}.{ZONE}.","type":"A","ttl":300,"changetype":"REPLACE","records":[{{"content":"{}","disabled":false}}]{comments}}}"#,
        content(i)
    )
}

fn write_project(dir: &Path, server: &Pdns, records: usize, new: usize) {
    std::fs::create_dir_all(dir.join("infra")).unwrap();
    std::fs::write(
        dir.join("infra.toml"),
        format!("[project]\nname = \"bench\"\n\n[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:{}\"\napi_key = \"env:PDNS_BENCH_KEY\"\nzones = [\"{ZONE}\"]\n", server.api_port),
    )
    .unwrap();
    let mut s = String::new();
    for i in 0..records + new {
        s.push_str(&format!("[dns_record.r{i}]\nzone = \"{ZONE}\"\nname = \"r{i}\"\ntype = \"A\"\ncontent = \"{}\"\n\n", content(i)));
    }
    std::fs::write(dir.join("infra/records.toml"), s).unwrap();
}

fn write_octodns(dir: &Path, server: &Pdns, records: usize, new: usize) {
    std::fs::create_dir_all(dir.join("zones")).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        format!(
            "providers:\n  config:\n    class: octodns.provider.yaml.YamlProvider\n    directory: ./zones\n  pdns:\n    class: octodns_powerdns.PowerDnsProvider\n    host: 127.0.0.1\n    port: {}\n    api_key: {KEY}\n    scheme: http\nzones:\n  {ZONE}.:\n    sources:\n    - config\n    targets:\n    - pdns\n",
            server.api_port
        ),
    )
    .unwrap();
    // octoDNS wants keys in natural order (r2 before r10): numeric order here.
    let mut s = String::from("---\n");
    for i in 0..records + new {
        s.push_str(&format!(
            "r{i}:\n  ttl: 300\n  type: A\n  value: {}\n",
            content(i)
        ));
    }
    std::fs::write(dir.join(format!("zones/{ZONE}.yaml")), s).unwrap();
}

/// octoDNS in a venv cached in $INFRA_OCTODNS_VENV (default ~/.cache/infra-octodns-venv).
fn octodns_venv() -> PathBuf {
    let venv = std::env::var_os("INFRA_OCTODNS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/infra-octodns-venv")
        });
    let ok = |v: &Path| {
        Command::new(v.join("bin/python"))
            .args(["-c", "import octodns, octodns_powerdns"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(&venv) {
        eprintln!(
            "== installing octodns and octodns-powerdns into {}",
            venv.display()
        );
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(
            st.success(),
            "python3 -m venv failed (install python3-venv)"
        );
        let st = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "octodns", "octodns-powerdns"])
            .status()
            .expect("pip");
        assert!(st.success(), "pip install octodns octodns-powerdns failed");
    }
    venv
}

/// A private pdns_server; killed (and reaped) when dropped.
struct Pdns {
    child: Child,
    api_port: u16,
}

impl Pdns {
    fn start(dir: &Path) -> Pdns {
        let p = dir.join("pdns");
        std::fs::create_dir_all(&p).unwrap();
        let db = p.join("pdns.db");
        let schema =
            std::fs::File::open("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
                .expect("install pdns-server pdns-backend-sqlite3 sqlite3");
        let st = Command::new("sqlite3")
            .arg(&db)
            .stdin(schema)
            .status()
            .expect("sqlite3");
        assert!(st.success());
        let (dns_port, api_port) = (free_port(), free_port());
        std::fs::write(
            p.join("pdns.conf"),
            format!(
                "launch=gsqlite3\ngsqlite3-database={}\nlocal-address=127.0.0.1\nlocal-port={dns_port}\napi=yes\napi-key={KEY}\n\
                 webserver=yes\nwebserver-address=127.0.0.1\nwebserver-port={api_port}\nwebserver-allow-from=127.0.0.0/8\n\
                 webserver-max-bodysize=64\nsocket-dir={}\ndaemon=no\nguardian=no\ndisable-syslog=yes\n\
                 zone-cache-refresh-interval=0\ncache-ttl=0\nnegquery-cache-ttl=0\nquery-cache-ttl=0\n",
                db.display(),
                p.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(p.join("pdns.log")).unwrap();
        let child = Command::new("pdns_server")
            .arg(format!("--config-dir={}", p.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pdns_server");
        let server = Pdns { child, api_port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.call("GET", "/api/v1/servers/localhost", "").0 != 200 {
            assert!(
                Instant::now() < deadline,
                "pdns_server did not start: see {}",
                p.join("pdns.log").display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn version(&self) -> String {
        let (_, body) = self.call("GET", "/api/v1/servers/localhost", "");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["version"].as_str().unwrap_or("?").to_string()
    }

    /// rrsets in the zone (records + SOA + NS).
    fn count(&self) -> usize {
        let (_, body) = self.call(
            "GET",
            &format!("/api/v1/servers/localhost/zones/{ZONE}."),
            "",
        );
        let v: serde_json::Value = serde_json::from_str(&body).expect("zone JSON");
        v["rrsets"].as_array().map_or(0, Vec::len)
    }

    /// One blocking request (0 = no answer).
    fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect_timeout(
            &([127, 0, 0, 1], self.api_port).into(),
            Duration::from_secs(2),
        ) else {
            return (0, String::new());
        };
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-API-Key: {KEY}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut buf = Vec::new();
        if s.write_all(req.as_bytes()).is_err() || s.read_to_end(&mut buf).is_err() {
            return (0, String::new());
        }
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (
            status,
            text.split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default(),
        )
    }
}

impl Drop for Pdns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
