//! Every provider's setting errors (typed settings) and audit rejections (what its
//! API would refuse or store in another form) are found by `infra validate`, at the
//! file:line:column of the value, before any provider is built or called: no
//! credentials are needed and nothing changes on disk.

mod common;
use common::TestEnv;

/// `file:line:column` of what a diagnostic points at on the first line containing `line_text`.
fn at(file: &str, text: &str, line_text: &str) -> String {
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(line_text))
        .unwrap_or_else(|| panic!("{line_text:?} not in {file}"));
    // A value after `key = `, or the resource name in a `[kind.name]` header.
    let col = match line.find("= ") {
        Some(i) => i + 3,
        None => line.rfind('.').map_or(1, |i| i + 2),
    };
    format!("{file}:{}:{col}", n + 1)
}

/// Validate `providers` + `resources`; every (line, message) pair must be reported
/// at that line's value, and validate must fail without touching anything.
fn check(providers: &str, resources: &str, expect: &[(&str, &str, &str)]) -> String {
    let env = TestEnv::new();
    let infra = format!("[project]\nname = \"t\"\n\n{providers}");
    env.write("infra.toml", &infra);
    env.write("infra/main.toml", resources);
    let before = env.snapshot();
    let run = env.infra(&["validate"]).expect(1);
    for (file, line, message) in expect {
        let text = if *file == "infra.toml" {
            &infra
        } else {
            resources
        };
        let loc = at(file, text, line);
        let reported = run
            .stderr
            .split("\n\n")
            .any(|block| block.contains(&loc) && block.contains(message));
        assert!(
            reported,
            "expected {message:?} at {loc} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(env.snapshot(), before, "validate must not change anything");
    run.stderr
}

#[test]
fn powerdns_settings_and_audit() {
    let stderr = check(
        "[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key = \"env:PDNS_KEY\"\nserver_id = 5\ntimeout_secs = 0\n",
        "[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ntype = \"A\"\ncontent = \"192.0.2.1\"\nproxied = true\n\n[dns_record.mail]\nzone = \"example.com\"\nname = \"@\"\ntype = \"MX\"\ncontent = \"mx1.example.com.\"\npriority = 10\n",
        &[
            ("infra.toml", "server_id = 5", "server_id: invalid type: integer `5`, expected a string"),
            ("infra/main.toml", "proxied = true", "proxied = true is a Cloudflare feature"),
            ("infra/main.toml", "mx1.example.com.", "without the trailing dot"),
        ],
    );
    // Once the types parse, the provider's own range checks run too.
    let env_free = check(
        "[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key = \"env:PDNS_KEY\"\ntimeout_secs = 0\n",
        "",
        &[("infra.toml", "timeout_secs = 0", "from 1 to 3600")],
    );
    assert!(!stderr.contains("PDNS_KEY is not set") && !env_free.contains("not set"));
}

#[test]
fn powerdns_api_url_must_be_http() {
    check(
        "[providers.dns]\nkind = \"powerdns\"\napi_url = \"127.0.0.1:8081\"\napi_key = \"env:PDNS_KEY\"\n",
        "",
        &[("infra.toml", "api_url =", "is not an http:// or https:// URL")],
    );
}

#[test]
fn cloudflare_settings_and_audit() {
    check(
        "[providers.cf]\nkind = \"cloudflare\"\ntoken = \"env:CF_TOKEN\"\nzones = 5\n",
        "",
        &[("infra.toml", "zones = 5", "a string or a list of strings")],
    );
    check(
        "[providers.cf]\nkind = \"cloudflare\"\ntoken = \"env:CF_TOKEN\"\n",
        "[dns_record.nas]\nzone = \"example.com\"\nname = \"nas\"\ntype = \"A\"\ncontent = \"192.168.1.52\"\nproxied = true\nttl = 1\n\n[dns_record.v6]\nzone = \"example.com\"\nname = \"v6\"\ntype = \"AAAA\"\ncontent = \"2001:db8:0:0::1\"\n",
        &[
            ("infra/main.toml", "proxied = true", "proxied = true is refused for 192.168.1.52"),
            ("infra/main.toml", "2001:db8:0:0::1", "is written `2001:db8::1`"),
        ],
    );
    // Audited as apply would send it: the schema's default ttl (300) included.
    check(
        "[providers.cf]\nkind = \"cloudflare\"\ntoken = \"env:CF_TOKEN\"\n",
        "[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ntype = \"A\"\ncontent = \"203.0.113.10\"\nproxied = true\n",
        &[("infra/main.toml", "proxied = true", "automatic TTL")],
    );
}

#[test]
fn proxmox_settings_and_audit() {
    check(
        "[providers.pve]\nkind = \"proxmox\"\nendpoint = \"http://pve.lan:8006\"\nnode = \"pve1\"\ntoken = \"env:PVE_TOKEN\"\ntls_fingerprint = \"AB:CD\"\n",
        "[container.build]\nhostname = \"build\"\nimage = \"debian-12\"\nports = [\"8080:80\"]\n",
        &[
            ("infra.toml", "endpoint =", "must be an https:// URL"),
            ("infra.toml", "tls_fingerprint =", "must be the SHA-256 of the certificate"),
            ("infra/main.toml", "ports =", "do not support `ports`"),
        ],
    );
}

#[test]
fn docker_settings() {
    check(
        "[providers.d]\nkind = \"docker\"\nsocket = \"tcp://10.0.0.5:2375\"\nnetwork = \"\"\n",
        "",
        &[
            ("infra.toml", "socket =", "only unix sockets are supported"),
            ("infra.toml", "network =", "must name a network"),
        ],
    );
}

#[test]
fn nginx_settings() {
    check(
        "[providers.web]\nkind = \"nginx\"\nsites_dir = \"sites\"\nenabled_dir = \"enabled\"\nhost = \"ssh://root@edge.lan:22\"\nnginx = []\n",
        "",
        &[
            ("infra.toml", "sites_dir =", "must be absolute on a remote host"),
            ("infra.toml", "enabled_dir =", "must be absolute on a remote host"),
            ("infra.toml", "nginx = []", "must not be empty"),
        ],
    );
    check(
        "[providers.web]\nkind = \"nginx\"\nsites_dir = \"sites\"\nhost = \"ftp://edge.lan\"\n",
        "",
        &[("infra.toml", "host =", "only ssh:// hosts are supported")],
    );
}

#[test]
fn prometheus_settings_and_audit() {
    check(
        "[providers.mon]\nkind = \"prometheus\"\ntargets_dir = 3\n",
        "",
        &[(
            "infra.toml",
            "targets_dir = 3",
            "invalid type: integer `3`, expected a string",
        )],
    );
    check(
        "[providers.mon]\nkind = \"prometheus\"\ntargets_dir = \"targets\"\n",
        "[monitor.site]\nurl = \"https://example.com/\"\ninterval = 10\ntimeout = 30\n",
        &[(
            "infra/main.toml",
            "[monitor.site]",
            "Prometheus drops such a target",
        )],
    );
}

#[test]
fn file_settings() {
    check(
        "[providers.local]\nkind = \"file\"\nroot = \"out\"\ncomment = 1\n",
        "",
        &[(
            "infra.toml",
            "comment = 1",
            "invalid type: integer `1`, expected a string",
        )],
    );
    check(
        "[providers.local]\nkind = \"file\"\nroot = \"out\"\nhost = \"ssh://deploy@files.lan\"\n",
        "",
        &[("infra.toml", "root =", "must be absolute on a remote host")],
    );
}

#[test]
fn retries_is_a_setting_of_every_provider() {
    check(
        "[providers.local]\nkind = \"file\"\nroot = \"out\"\nretries = 99\n",
        "",
        &[("infra.toml", "retries = 99", "must be from 0 to 10")],
    );
    check(
        "[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key = \"env:K\"\nretries = -1\n",
        "",
        &[("infra.toml", "retries = -1", "retries: invalid value: integer `-1`")],
    );
    let env = TestEnv::new();
    env.write(
        "infra.toml",
        "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\nretries = 0\n",
    );
    env.write("infra/main.toml", "");
    env.infra(&["validate"]).expect(0);
}

#[test]
fn roots_that_make_no_sense_are_refused_at_their_line() {
    check(
        "[providers.a]\nkind = \"file\"\nroot = \"/\"\n\n[providers.b]\nkind = \"file\"\nroot = \".\"\n\n\
         [providers.c]\nkind = \"file\"\nroot = \"..\"\n\n[providers.d]\nkind = \"nginx\"\nsites_dir = \"\"\n\n\
         [providers.e]\nkind = \"prometheus\"\ntargets_dir = \"../../targets\"\n",
        "",
        &[
            ("infra.toml", "root = \"/\"", "root: \"/\" is the whole filesystem"),
            ("infra.toml", "root = \".\"", "root: \".\" is the project directory itself"),
            ("infra.toml", "root = \"..\"", "root: \"..\" leaves the project"),
            ("infra.toml", "sites_dir = \"\"", "sites_dir: \"\" must name a directory"),
            ("infra.toml", "targets_dir = \"../../targets\"", "leaves the project"),
        ],
    );
}
