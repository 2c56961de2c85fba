//! Hostile specs, generated: broken syntax, unknown kinds and attributes, wrong
//! types, huge numbers, invisible characters, traversal, links out of the
//! project, senseless roots, cycles, duplicates, huge values, literal secrets.
//! Each must make `infra validate` fail with a clear error at file:line (or, for
//! a file infra will not read, naming the file), within a bound, without a
//! panic, and without writing anything.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A project every case starts from: one provider per kind, and it validates.
const PROVIDERS: &str = r#"[project]
name = "hostile"

[providers.local]
kind = "file"
root = "out"

[providers.docker]
kind = "docker"

[providers.dns]
kind = "powerdns"
api_url = "http://127.0.0.1:8081"
api_key = "env:PDNS_KEY"

[providers.edge]
kind = "nginx"
sites_dir = "sites"

[providers.mon]
kind = "prometheus"
targets_dir = "targets"
"#;

/// A Proxmox node beside the others (containers then name their provider).
const PVE: &str = "\n[providers.pve]\nkind = \"proxmox\"\nendpoint = \"https://pve.lan:8006\"\nnode = \"pve1\"\ntoken = \"env:PVE_TOKEN\"\n";

const FILE: &str = "[file.a]\npath = \"a.txt\"\ncontent = \"a\"\n";
const CONTAINER: &str =
    "[container.app]\nimage = \"nginx:1.27\"\nhostname = \"app\"\nports = [\"8080:80\"]\n";
const RECORD: &str =
    "[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ntype = \"A\"\ncontent = \"192.0.2.1\"\n";
const SITE: &str =
    "[proxy_site.app]\nserver_name = \"app.example.com\"\nupstream = \"http://127.0.0.1:8080\"\n";
const MONITOR: &str = "[monitor.app]\nurl = \"http://127.0.0.1:8080/health\"\n";

struct Case {
    name: String,
    /// Appended to infra.toml.
    infra: String,
    /// infra/main.toml (bytes: some cases are not UTF-8).
    main: Vec<u8>,
    /// Extra files or links made before the run.
    setup: Option<fn(&Path)>,
    /// Words the error must contain (any of them).
    expect: &'static [&'static str],
    /// The error names a file without a line (a file infra refuses to read).
    file_only: bool,
}

fn case(name: impl Into<String>, main: impl Into<String>, expect: &'static [&'static str]) -> Case {
    Case {
        name: name.into(),
        infra: String::new(),
        main: main.into().into_bytes(),
        setup: None,
        expect,
        file_only: false,
    }
}

fn infra_case(
    name: impl Into<String>,
    infra: impl Into<String>,
    expect: &'static [&'static str],
) -> Case {
    Case {
        infra: infra.into(),
        main: FILE.as_bytes().to_vec(),
        ..case(name, "", expect)
    }
}

fn syntax() -> Vec<Case> {
    let broken = [
        "[file.a\npath = \"a\"\n",
        "[file.a]\npath = \"a\n",
        "[file.a]\npath \"a\"\n",
        "[file.a]\npath = \n",
        "[file.a]\npath = 'a\ncontent = \"x\"\n",
        "[file.a]\npath = \"a\"\npath = \"b\"\n",
        "[file.a]\n[file.a]\npath = \"a\"\n",
        "[file.a]\npath = [\"a\"\n",
        "[file.a]\npath = {x = 1\n",
        "[[file]]\npath = \"a\"\n",
        "[file.a]\npath = \"a\" junk\n",
        "file.a = 1\n[file.a]\n",
        "[file.a]\npath = \"\\q\"\n",
        "[file.a]\ncontent = \"\"\"never closed\n",
        "[file.a]\n= \"a\"\n",
        "[]\n",
        "[file.]\npath = \"a\"\n",
        "[file.a]\npath = 0x\n",
        "[file.a]\nmode = 0o9\n",
        "[file.a]\npath = \"a\",\n",
        "[file.a]\npath = tru\n",
        "[file.a]\ncontent = \"\\uD800\"\n",
        "[file.a]\n\"path = \"a\"\n",
        "[file.a]]\n",
        "[file. a b]\n",
    ];
    broken
        .iter()
        .enumerate()
        .map(|(i, b)| {
            case(
                format!("syntax {i}"),
                *b,
                &[
                    "TOML syntax",
                    "declared twice",
                    "not a",
                    "must be",
                    "must hold",
                    "needs",
                    "without digits",
                ],
            )
        })
        .collect()
}

fn unknown_kinds() -> Vec<Case> {
    [
        "frobnicator",
        "contianer",
        "files",
        "dns",
        "dnsrecord",
        "record",
        "site",
        "proxy",
        "vm2",
        "Container",
        "FILE",
        "monitors",
        "lxc",
        "docker",
        "k8s_pod",
        "lambda",
        "bucket",
        "database",
        "queue",
        "user",
    ]
    .iter()
    .map(|k| {
        case(
            format!("kind {k}"),
            format!("[{k}.x]\nname = \"x\"\n"),
            &["kind", "unknown", "not"],
        )
    })
    .collect()
}

fn unknown_attributes() -> Vec<Case> {
    let bases = [
        (FILE, "file"),
        (CONTAINER, "container"),
        (RECORD, "dns_record"),
        (SITE, "proxy_site"),
        (MONITOR, "monitor"),
    ];
    let attrs = [
        "colour",
        "pth",
        "contents",
        "imag",
        "host_name",
        "cpu",
        "ram",
        "ttl_secs",
        "serverName",
        "uri",
    ];
    let mut out = Vec::new();
    for (base, kind) in bases {
        for (i, a) in attrs.iter().enumerate() {
            out.push(case(
                format!("attribute {kind}.{a} {i}"),
                format!("{base}{a} = \"x\"\n"),
                &["has no attribute"],
            ));
        }
    }
    out
}

/// `base` with attribute line `line` set (replacing the base's own value).
fn set(base: &str, line: &str) -> String {
    let (header, rest) = base.split_once('\n').unwrap();
    let key = line.split(' ').next().unwrap();
    let body: String = rest
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{header}\n{body}{line}\n")
}

fn wrong_types() -> Vec<Case> {
    let rows: &[(&str, &str, &[&str])] = &[
        (FILE, "path = 5", &["path"]),
        (FILE, "path = true", &["path"]),
        (FILE, "path = [\"a\"]", &["path"]),
        (FILE, "path = {x = 1}", &["path"]),
        (FILE, "content = 5", &["content"]),
        (FILE, "mode = 644", &["mode"]),
        (FILE, "mode = \"rwx\"", &["mode"]),
        (FILE, "mode = \"99999\"", &["mode"]),
        (CONTAINER, "cores = \"four\"", &["cores"]),
        (CONTAINER, "cores = 2.5", &["cores"]),
        (CONTAINER, "memory = \"lots\"", &["memory"]),
        (CONTAINER, "ports = \"80\"", &["ports"]),
        (CONTAINER, "ports = [80]", &["ports"]),
        (CONTAINER, "env = [\"A=1\"]", &["env"]),
        (CONTAINER, "ip = \"300.1.1.1\"", &["ip"]),
        (CONTAINER, "ip = \"10.0.0.1/33\"", &["ip"]),
        (CONTAINER, "start = \"yes\"", &["start"]),
        (RECORD, "ttl = \"hour\"", &["ttl"]),
        (RECORD, "ttl = [1]", &["ttl"]),
        (RECORD, "priority = \"high\"", &["priority"]),
        (RECORD, "proxied = 1", &["proxied"]),
        (SITE, "tls = \"yes\"", &["tls"]),
        (SITE, "upstream = 8080", &["upstream"]),
        (SITE, "upstream = \"ftp://x\"", &["upstream"]),
        (SITE, "upstream = \"http://a b\"", &["upstream"]),
        (SITE, "upstream = \"http://h;rm -rf /\"", &["upstream"]),
        (SITE, "server_name = \"bad name\"", &["server_name"]),
        (SITE, "server_name = \"a..b\"", &["server_name"]),
        (MONITOR, "interval = \"30s\"", &["interval"]),
        (MONITOR, "url = \"not a url\"", &["url"]),
        (MONITOR, "url = \"javascript:alert(1)\"", &["url"]),
        (MONITOR, "timeout = -1", &["timeout"]),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (base, line, expect))| case(format!("type {i} {line}"), set(base, line), expect))
        .collect()
}

fn huge_numbers() -> Vec<Case> {
    let rows: &[(&str, &str)] = &[
        (CONTAINER, "cores = 99999999999999999999"),
        (CONTAINER, "cores = 1e308"),
        (CONTAINER, "cores = -5"),
        (CONTAINER, "cores = 0"),
        (CONTAINER, "cores = nan"),
        (CONTAINER, "cores = inf"),
        (CONTAINER, "cores = -inf"),
        (CONTAINER, "memory = 9223372036854775807"),
        (CONTAINER, "memory = -1"),
        (CONTAINER, "memory = 0x7fffffffffffffffff"),
        (CONTAINER, "disk = 1e400"),
        (CONTAINER, "disk = -20"),
        (RECORD, "ttl = -3"),
        (RECORD, "ttl = 0"),
        (RECORD, "ttl = 4294967296000"),
        (RECORD, "priority = 70000"),
        (RECORD, "priority = -1"),
        (MONITOR, "interval = 0"),
        (MONITOR, "interval = 99999999999"),
        (MONITOR, "timeout = 1e10"),
        (FILE, "content = 1_000_000_000_000_000_000_000"),
        (
            FILE,
            "content = 0b11111111111111111111111111111111111111111111111111111111111111111",
        ),
        (SITE, "upstream = \"http://127.0.0.1:99999\""),
        (SITE, "upstream = \"http://127.0.0.1:0\""),
        (MONITOR, "url = \"http://127.0.0.1:70000/health\""),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (base, line))| {
            case(
                format!("number {i} {line}"),
                set(base, line),
                &["out of range", "too large", "not a finite", "must be"],
            )
        })
        .collect()
}

const INVISIBLE: &[char] = &[
    '\u{202E}', '\u{202D}', '\u{2066}', '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{0007}', '\u{001B}',
    '\u{0085}', '\u{061C}',
];

fn unicode() -> Vec<Case> {
    let mut out = Vec::new();
    for (i, c) in INVISIBLE.iter().enumerate() {
        let esc = format!("\\u{:04X}", *c as u32);
        out.push(case(
            format!("unicode path {i}"),
            format!("[file.a]\npath = \"ab{esc}c.txt\"\ncontent = \"x\"\n"),
            &["invisible", "path"],
        ));
        out.push(case(
            format!("unicode dir {i}"),
            format!("[file.a]\npath = \"d{esc}/c.txt\"\ncontent = \"x\"\n"),
            &["invisible", "path"],
        ));
        out.push(case(
            format!("unicode hostname {i}"),
            format!("[container.app]\nimage = \"nginx\"\nhostname = \"ap{esc}p\"\n"),
            &["hostname"],
        ));
        out.push(case(
            format!("unicode name {i}"),
            format!("[file.\"a{esc}b\"]\npath = \"x.txt\"\ncontent = \"x\"\n"),
            &["name", "invalid"],
        ));
    }
    out.push(case(
        "component 256 bytes",
        format!(
            "[file.a]\npath = \"{}.txt\"\ncontent = \"x\"\n",
            "n".repeat(256)
        ),
        &["at most 239"],
    ));
    out.push(case(
        "path 4097 bytes",
        format!(
            "[file.a]\npath = \"{}x\"\ncontent = \"x\"\n",
            "abcdefg/".repeat(512)
        ),
        &["at most 4096"],
    ));
    out
}

fn traversal() -> Vec<Case> {
    [
        "../x.txt",
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../b",
        "a/./b",
        "a//b",
        "",
        "./x",
        "..",
        ".",
        "a/..",
        "/",
        "x/../..",
    ]
    .iter()
    .enumerate()
    .map(|(i, p)| {
        case(
            format!("traversal {i} {p:?}"),
            format!("[file.a]\npath = \"{p}\"\ncontent = \"x\"\n"),
            &["path"],
        )
    })
    .collect()
}

fn links() -> Vec<Case> {
    fn template_out(dir: &Path) {
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("templates/t.j2")).unwrap();
    }
    fn templates_dir_out(dir: &Path) {
        std::os::unix::fs::symlink("/etc", dir.join("templates")).unwrap();
    }
    fn template_via_parent(dir: &Path) {
        std::fs::create_dir_all(dir.join("templates")).unwrap();
    }
    fn spec_file_link(dir: &Path) {
        let outside = dir.parent().unwrap().join(format!(
            "{}-outside.toml",
            dir.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&outside, "[file.z]\npath = \"z\"\ncontent = \"z\"\n").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("infra/evil.toml")).unwrap();
    }
    fn spec_fifo(dir: &Path) {
        rustix_mkfifo(&dir.join("infra/pipe.toml"));
    }
    fn state_fifo(dir: &Path) {
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        rustix_mkfifo(&dir.join("templates/t.j2"));
    }
    let t = "[file.a]\npath = \"a.txt\"\ntemplate = \"t.j2\"\n";
    vec![
        Case {
            setup: Some(template_out),
            ..case("template link", t, &["symbolic link"])
        },
        Case {
            setup: Some(templates_dir_out),
            ..case(
                "templates dir link",
                "[file.a]\npath = \"a.txt\"\ntemplate = \"hostname\"\n",
                &["symbolic link"],
            )
        },
        Case {
            setup: Some(template_via_parent),
            ..case(
                "template ..",
                "[file.a]\npath = \"a.txt\"\ntemplate = \"../infra.toml\"\n",
                &["beneath", "template"],
            )
        },
        Case {
            setup: Some(template_via_parent),
            ..case(
                "template absolute",
                "[file.a]\npath = \"a.txt\"\ntemplate = \"/etc/hostname\"\n",
                &["beneath", "template"],
            )
        },
        Case {
            setup: Some(spec_file_link),
            file_only: true,
            ..case("spec file link", FILE, &["symbolic link"])
        },
        Case {
            setup: Some(spec_fifo),
            file_only: true,
            ..case("spec fifo", FILE, &["not a regular file"])
        },
        Case {
            setup: Some(state_fifo),
            ..case("template fifo", t, &["not a regular file"])
        },
    ]
}

fn rustix_mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn roots() -> Vec<Case> {
    let mut out = Vec::new();
    for (kind, setting) in [
        ("file", "root"),
        ("nginx", "sites_dir"),
        ("prometheus", "targets_dir"),
    ] {
        for dir in ["/", ".", "..", "", "../x", "a/../..", "./", "/.."] {
            out.push(infra_case(
                format!("root {kind} {dir:?}"),
                format!("\n[providers.bad]\nkind = \"{kind}\"\n{setting} = \"{dir}\"\n"),
                &["directory", "filesystem", "leaves the project", "project"],
            ));
        }
    }
    out
}

fn cycles() -> Vec<Case> {
    vec![
        infra_case("vars cycle", "\n[vars]\na = \"${vars.b}\"\nb = \"${vars.a}\"\n", &["plain values"]),
        infra_case("vars self", "\n[vars]\na = \"x${vars.a}\"\n", &["plain values"]),
        infra_case("vars chain", "\n[vars]\na = \"${vars.b}\"\nb = \"x\"\n", &["plain values"]),
        infra_case("vars in list", "\n[vars]\na = [\"${vars.b}\"]\nb = \"x\"\n", &["plain values"]),
        case("reference cycle", "[file.a]\npath = \"a\"\ncontent = \"${file.b.content}\"\n[file.b]\npath = \"b\"\ncontent = \"${file.a.content}\"\n", &["cycle"]),
        case("self reference", "[file.a]\npath = \"a\"\ncontent = \"${file.a.path}\"\n", &["cycle", "itself"]),
        case("depends_on cycle", "[file.a]\npath = \"a\"\ncontent = \"a\"\ndepends_on = [\"file.b\"]\n[file.b]\npath = \"b\"\ncontent = \"b\"\ndepends_on = [\"file.a\"]\n", &["cycle"]),
        case("depends_on self", "[file.a]\npath = \"a\"\ncontent = \"a\"\ndepends_on = [\"file.a\"]\n", &["cycle", "itself"]),
        case("three cycle", "[file.a]\npath = \"a\"\ncontent = \"${file.c.path}\"\n[file.b]\npath = \"b\"\ncontent = \"${file.a.path}\"\n[file.c]\npath = \"c\"\ncontent = \"${file.b.path}\"\n", &["cycle"]),
        case("undefined var", "[file.a]\npath = \"a\"\ncontent = \"${vars.nope}\"\n", &["undefined"]),
        case("undefined resource", "[file.a]\npath = \"a\"\ncontent = \"${file.nope.content}\"\n", &["not declared"]),
        case("unclosed reference", "[file.a]\npath = \"a\"\ncontent = \"${vars.x\"\n", &["unclosed", "`${`"]),
    ]
}

fn duplicates() -> Vec<Case> {
    vec![
        case("same path", "[file.a]\npath = \"x.txt\"\ncontent = \"a\"\n[file.b]\npath = \"x.txt\"\ncontent = \"b\"\n", &["same object"]),
        case("same path ./", "[file.a]\npath = \"d/x.txt\"\ncontent = \"a\"\n[file.b]\npath = \"d/x.txt\"\ncontent = \"b\"\n", &["same object"]),
        case("path below file", "[file.a]\npath = \"x.txt\"\ncontent = \"a\"\n[file.b]\npath = \"x.txt/y.txt\"\ncontent = \"b\"\n", &["below"]),
        case("path below deep", "[file.a]\npath = \"d/x\"\ncontent = \"a\"\n[file.b]\npath = \"d/x/y/z\"\ncontent = \"b\"\n", &["below"]),
        Case {
            main: "[container.a]\nprovider = \"pve\"\nimage = \"local:vztmpl/debian-12.tar.zst\"\nhostname = \"web\"\nip = \"10.0.0.5/24\"\n[container.b]\nprovider = \"pve\"\nimage = \"local:vztmpl/debian-12.tar.zst\"\nhostname = \"web\"\nip = \"10.0.0.6/24\"\n".into(),
            ..infra_case("same hostname on one node", PVE, &["same object"])
        },
        Case {
            main: "[container.a]\nprovider = \"pve\"\nimage = \"local:vztmpl/debian-12.tar.zst\"\nhostname = \"Web\"\nip = \"10.0.0.5/24\"\n[container.b]\nprovider = \"pve\"\nimage = \"local:vztmpl/debian-12.tar.zst\"\nhostname = \"web\"\nip = \"10.0.0.6/24\"\n".into(),
            ..infra_case("same hostname case", PVE, &["same object"])
        },
        case("same record", format!("{RECORD}[dns_record.www2]\nzone = \"example.com\"\nname = \"www\"\ntype = \"A\"\ncontent = \"192.0.2.1\"\n"), &["same object"]),
        case("same site", format!("{SITE}[proxy_site.b]\nserver_name = \"app.example.com\"\nupstream = \"http://127.0.0.1:9090\"\n"), &["same object"]),
        case("declared twice", "[file.a]\npath = \"a\"\ncontent = \"a\"\n[file.a]\npath = \"b\"\ncontent = \"b\"\n", &["TOML syntax", "declared twice"]),
        case("declared twice across files", "[file.a]\npath = \"a\"\ncontent = \"a\"\n", &["declared twice"]),
    ]
}

fn huge_values() -> Vec<Case> {
    let big = "x".repeat(20_000);
    vec![
        Case {
            main: format!(
                "[file.a]\npath = \"a\"\ncontent = \"{}\"\n",
                "${vars.x}".repeat(1000)
            )
            .into_bytes(),
            ..infra_case(
                "vars repeated 1000",
                format!("\n[vars]\nx = \"{big}\"\n"),
                &["MiB"],
            )
        },
        Case {
            main: format!(
                "[file.a]\npath = \"a\"\ncontent = \"{}\"\n",
                "${vars.x}${vars.y}".repeat(500)
            )
            .into_bytes(),
            ..infra_case(
                "two vars repeated",
                format!("\n[vars]\nx = \"{big}\"\ny = \"{big}\"\n"),
                &["MiB"],
            )
        },
        case(
            "template bomb",
            "[file.a]\npath = \"a\"\ntemplate = \"bomb.j2\"\n",
            &["does not exist"],
        ),
        case(
            "deep nesting",
            format!(
                "[file.a]\npath = \"a\"\ncontent = {}1{}\n",
                "[".repeat(200_000),
                "]".repeat(200_000)
            ),
            &["recursion"],
        ),
        case(
            "deep inline tables",
            format!(
                "[file.a]\npath = \"a\"\ncontent = {}\n",
                "{a=".repeat(2000) + "1" + &"}".repeat(2000)
            ),
            &["recursion"],
        ),
    ]
}

fn literal_secrets() -> Vec<Case> {
    let secrets = [
        format!("{}{}", "sk-ant-api03-", "Zx9Qw8Er7Ty6Ui5Op4As3Df2"),
        format!("{}{}", "ghp_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"),
        format!("{}{}", "github_pat_", "11AAAAAAA0abcdefghijklmnop"),
        format!("{}{}", "glpat-", "Xy12Zz34Ww56Vv78Uu90"),
        format!("{}{}", "xoxb-", "123456789012-abcdefghijkl"),
        format!("{}{}", "AKIA", "IOSFODNN7EXAMPLE"),
        format!("{}{}", "sk-", "proj-Ab12Cd34Ef56Gh78Ij90Kl"),
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXX".to_string(),
        "postgres://admin:Sup3rS3cret@db.lan:5432/app".to_string(),
        concat!(
            "-----BEGIN RSA ",
            "PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA\\n-----END RSA ",
            "PRIVATE KEY-----"
        )
        .to_string(),
    ];
    let mut out = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        out.push(case(
            format!("secret content {i}"),
            format!("[file.a]\npath = \"a\"\ncontent = \"key: {s}\"\n"),
            &["written out in the spec"],
        ));
        out.push(case(
            format!("secret env {i}"),
            format!("{CONTAINER}env = {{ TOKEN = \"{s}\" }}\n"),
            &["written out in the spec", "must be a reference", "secret"],
        ));
        out.push(infra_case(
            format!("secret var {i}"),
            format!("\n[vars]\nk = \"{s}\"\n"),
            &["written out in the spec"],
        ));
        out.push(infra_case(
            format!("secret ai {i}"),
            format!("\n[ai]\nbackend = \"anthropic\"\nmodel = \"{s}\"\n"),
            &["written out in the spec"],
        ));
    }
    out.push(infra_case(
        "ai api_key literal",
        "\n[ai]\nbackend = \"anthropic\"\napi_key = \"not-a-ref\"\n",
        &["literal secret"],
    ));
    out.push(infra_case("provider key literal", "\n[providers.dns2]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key = \"plain\"\n", &["reference", "env:"]));
    out
}

fn modes() -> Vec<Case> {
    ["4777", "6755", "1777", "2755", "4755", "7777"]
        .iter()
        .map(|m| {
            case(
                format!("mode {m}"),
                format!("[file.a]\npath = \"a\"\ncontent = \"x\"\nmode = \"{m}\"\n"),
                &["setuid"],
            )
        })
        .collect()
}

fn not_utf8() -> Vec<Case> {
    let mut out = Vec::new();
    for (i, bytes) in [
        &b"\xff"[..],
        b"\xc3\x28",
        b"\xe2\x82",
        b"\xf0\x28\x8c\x28",
        b"\xed\xa0\x80",
    ]
    .iter()
    .enumerate()
    {
        let mut main = b"[file.a]\npath = \"a\"\ncontent = \"".to_vec();
        main.extend_from_slice(bytes);
        main.extend_from_slice(b"\"\n");
        out.push(Case {
            main,
            ..case(format!("utf8 {i}"), "", &["UTF-8"])
        });
    }
    out
}

fn all_cases() -> Vec<Case> {
    [
        syntax(),
        unknown_kinds(),
        unknown_attributes(),
        wrong_types(),
        huge_numbers(),
        unicode(),
        traversal(),
        links(),
        roots(),
        cycles(),
        duplicates(),
        huge_values(),
        literal_secrets(),
        modes(),
        not_utf8(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Names and sizes of everything under `dir`, links not followed.
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            out.push((
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                meta.len(),
            ));
            if meta.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Run `infra validate`, killed (and failed as a hang) after 10 s.
fn validate(dir: &Path) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(common::infra_bin())
        .arg("validate")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes while it runs: a long message must not block it on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut t = String::new();
        let _ = out_pipe.read_to_string(&mut t);
        t
    });
    let err_reader = std::thread::spawn(move || {
        let mut t = String::new();
        let _ = err_pipe.read_to_string(&mut t);
        t
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = out_reader.join().unwrap() + &err_reader.join().unwrap();
    (status.and_then(|s| s.code()), text)
}

fn run(c: &Case) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    std::fs::create_dir_all(dir.join("infra")).unwrap();
    std::fs::write(dir.join("infra.toml"), format!("{PROVIDERS}{}", c.infra)).unwrap();
    std::fs::write(dir.join("infra/main.toml"), &c.main).unwrap();
    if c.name == "declared twice across files" {
        std::fs::write(dir.join("infra/other.toml"), FILE).unwrap();
    }
    if let Some(setup) = c.setup {
        setup(&dir);
    }
    let before = listing(&dir);
    let (code, text) = validate(&dir);
    let fail = |why: &str| Err(format!("{}: {why}\n{text}", c.name));
    let Some(code) = code else {
        return fail("hung (killed after 10 s)");
    };
    if text.contains("panicked")
        || text.contains("RUST_BACKTRACE")
        || text.contains("memory allocation")
    {
        return fail("panicked or aborted");
    }
    if code != 1 {
        return fail(&format!("exit {code}, wanted 1"));
    }
    let located = regex::Regex::new(r"(infra\.toml|infra/[a-z]+\.toml):\d+:\d+").unwrap();
    if !located.is_match(&text) && !(c.file_only && text.contains("infra/")) {
        return fail("no file:line:column");
    }
    // The words must be in a message, not merely in the quoted source.
    let messages: String = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('×') || l.starts_with("Error") || l.starts_with("help:"))
        .collect::<Vec<_>>()
        .join("\n");
    if !c.expect.iter().any(|w| messages.contains(w)) {
        return fail(&format!("none of {:?} in the message", c.expect));
    }
    if listing(&dir) != before {
        return fail("validate changed the project");
    }
    Ok(())
}

#[test]
fn the_base_project_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("infra")).unwrap();
    std::fs::write(dir.join("infra.toml"), PROVIDERS).unwrap();
    std::fs::write(
        dir.join("infra/main.toml"),
        [FILE, CONTAINER, RECORD, SITE, MONITOR].concat(),
    )
    .unwrap();
    let (code, text) = validate(dir);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn every_hostile_spec_is_refused_at_its_place_and_changes_nothing() {
    let cases = all_cases();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| run(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n----\n")
    );
}
