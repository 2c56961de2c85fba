//! Certificates from a real ACME CA (Debian's pebble on loopback), answered
//! through the project's own providers: DNS-01 by the lab's PowerDNS, HTTP-01 by
//! the lab's nginx. End to end through the `infra` binary: apply → the page over
//! HTTPS with the CA's root → a no-op plan → a renewal when the certificate is
//! inside its window (new fingerprint, still serving) → removal leaves no key,
//! no certificate, no challenge record. And an ACME failure: the CA's words,
//! nothing written, the site that needed the certificate left as it was.

mod common;
mod labkit;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Run, TestEnv};
use labkit::free_port;
use labkit::nginx::{Nginx, Upstream};
use labkit::pdns::{Pdns, KEY};
use labkit::pebble::Pebble;
use labkit::sshd::Sshd;
use serde_json::Value;

const ZONE: &str = "lab.test";
const NAME: &str = "gitea.lab.test";
const BODY: &str = "gitea says hello";

struct Lab {
    env: TestEnv,
    pdns: Pdns,
    nginx: Nginx,
    pebble: Pebble,
    _upstream: Upstream,
    tls_port: u16,
    certs: PathBuf,
    /// When set, nginx's and acme's files are reached over ssh (the "proxy host").
    ssh: Option<Sshd>,
}

fn dir_755(p: &Path) {
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Lab {
    fn start() -> Lab {
        Lab::start_on(None)
    }

    fn start_on(ssh: Option<Sshd>) -> Lab {
        let pdns = Pdns::start(&[ZONE]);
        let nginx = Nginx::start();
        let http_port = free_port();
        let pebble = Pebble::start(pdns.dns_port, http_port);
        let upstream = Upstream::start(BODY);
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        let certs = nginx.dir.path().join("certs");
        let answers = nginx.dir.path().join("acme");
        dir_755(&certs);
        dir_755(&answers);
        let host = ssh
            .as_ref()
            .map(|s| format!("host = \"{}\"\n", s.host_url()))
            .unwrap_or_default();
        let providers = format!(
            "[project]\nname = \"lab\"\n\n{pdns}\n\
             [providers.web]\nkind = \"nginx\"\nsites_dir = \"{sites}\"\nnginx = \"{cmd}\"\n\
             challenge_dir = \"{answers}\"\nchallenge_listen = \"127.0.0.1:{http_port}\"\n{host}\n\
             [providers.acme]\nkind = \"acme\"\ncert_dir = \"{certs}\"\ndns = \"pdns\"\nproxy = \"web\"\n\
             directory = \"{dir}\"\nca_cert = \"{ca}\"\ncontact = \"ops@lab.test\"\n{host}",
            pdns = pdns.provider_toml("pdns", &pdns.api_url(), &[ZONE], ""),
            sites = nginx.conf_d().display(),
            cmd = nginx.command(),
            answers = answers.display(),
            certs = certs.display(),
            dir = pebble.directory(),
            ca = pebble.server_ca().display(),
        );
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.write("infra.toml", &providers);
        env.commit_all("providers");
        Lab {
            env,
            pdns,
            nginx,
            pebble,
            tls_port: free_port(),
            _upstream: upstream,
            certs,
            ssh,
        }
    }

    fn http_port(&self) -> u16 {
        self.pebble.http_port
    }

    /// A certificate for NAME and the TLS site that reads it.
    fn service(&self, challenge: &str, renew_before: u32, extra: &str) -> String {
        format!(
            "[certificate.gitea]\ngroup = \"gitea\"\ndomains = [\"{NAME}\"]\nchallenge = \"{challenge}\"\nrenew_before = {renew_before}\n{extra}\n\
             [proxy_site.gitea]\ngroup = \"gitea\"\nserver_name = \"{NAME}\"\nlisten = \"127.0.0.1:{tls}\"\nhttp_listen = \"127.0.0.1:{http}\"\n\
             upstream = \"{up}\"\ntls_cert = \"${{certificate.gitea.cert_path}}\"\ntls_key = \"${{certificate.gitea.key_path}}\"\n",
            tls = self.tls_port,
            http = self.http_port(),
            up = self._upstream.url(),
        )
    }

    fn write_spec(&self, resources: &str) {
        self.env.write("infra/main.toml", resources);
        self.env.commit_all("spec");
    }

    fn infra(&self, args: &[&str]) -> Run {
        let Some(sshd) = &self.ssh else {
            return self.env.infra_with_secrets(args, &[("PDNS_TEST_KEY", KEY)]);
        };
        let mut cmd = self.env.cmd(args);
        cmd.env("PDNS_TEST_KEY", KEY);
        for (k, v) in sshd.env() {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("run infra"))
    }

    fn state(&self) -> Value {
        serde_json::from_str(&self.env.read(".infra/state.json")).unwrap()
    }

    fn cert_attr(&self, attr: &str) -> String {
        self.state()["resources"]["certificate.gitea"]["attrs"][attr]
            .as_str()
            .unwrap_or_else(|| panic!("certificate.gitea.{attr} in {}", self.state()))
            .to_string()
    }

    /// GET / over HTTPS through nginx, trusting only the CA's issuing root.
    fn https_get(&self) -> String {
        let root = self.pebble.issuing_root();
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&root)
            .arg("--resolve")
            .arg(format!("{NAME}:{}:127.0.0.1", self.tls_port))
            .arg(format!("https://{NAME}:{}/", self.tls_port))
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "curl over HTTPS: {}\nnginx:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.nginx.error_log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// SHA-256 of the certificate nginx serves (lowercase hex, as infra records it).
    fn served_fingerprint(&self) -> String {
        let script = format!(
            "openssl s_client -connect 127.0.0.1:{} -servername {NAME} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
            self.tls_port
        );
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let hex = text.trim().rsplit('=').next().unwrap_or("");
        hex.replace(':', "").to_ascii_lowercase()
    }

    fn challenge_records(&self) -> usize {
        let (_, body) = self.pdns.call(
            "GET",
            &format!("/api/v1/servers/localhost/zones/{ZONE}."),
            None,
        );
        body.matches("_acme-challenge").count()
    }

    fn cert_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.certs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.contains("acme-account"))
            .collect();
        names.sort();
        names
    }
}

#[test]
fn dns01_issues_serves_renews_and_removes() {
    let lab = Lab::start();
    lab.write_spec(&lab.service("dns-01", 30, ""));
    let applied = lab.infra(&["apply", "--yes"]).expect(0);
    // The card says where the service is, over https.
    assert!(
        applied
            .stdout
            .contains(&format!("https://{NAME}:{}", lab.tls_port)),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stdout.contains(&format!("{NAME}, expires in")),
        "{}",
        applied.stdout
    );
    assert_eq!(lab.https_get(), BODY);
    assert_eq!(lab.served_fingerprint(), lab.cert_attr("fingerprint"));
    assert_eq!(
        lab.challenge_records(),
        0,
        "the challenge record was removed"
    );

    // The key: only where nginx reads it, 0600; never in state, commits or output.
    let key_path = lab.cert_attr("key_path");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{key_path}");
    let history = lab.env.git(&["log", "-p", "--all"]).stdout;
    for text in [&history, &lab.env.read(".infra/state.json"), &applied.all()] {
        assert!(!text.contains("PRIVATE KEY"), "a key leaked:\n{text}");
        assert!(
            !text.contains("key_pkcs8"),
            "the ACME account key leaked:\n{text}"
        );
    }
    assert!(lab.cert_attr("not_after").ends_with('Z'));

    lab.infra(&["plan", "--detailed-exitcode"]).expect(0);

    // Inside its window: the plan says so, apply issues it again, nginx serves it.
    let before = lab.cert_attr("fingerprint");
    lab.write_spec(&lab.service("dns-01", 3650, ""));
    let plan = lab.infra(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout
            .contains("certificate.gitea will be renewed: expires in"),
        "{}",
        plan.stdout
    );
    lab.infra(&["apply", "--yes"]).expect(0);
    let after = lab.cert_attr("fingerprint");
    assert_ne!(before, after, "renewed");
    assert_eq!(lab.https_get(), BODY);
    // A reload is asynchronous: old workers finish their connections first,
    // and one may still answer right after a new one did. Three answers in a
    // row with the new certificate show the old workers are gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut in_a_row = 0;
    while in_a_row < 3 && std::time::Instant::now() < deadline {
        if lab.served_fingerprint() == after {
            in_a_row += 1;
        } else {
            in_a_row = 0;
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    assert_eq!(in_a_row, 3, "nginx serves the renewed certificate");
    assert_eq!(lab.challenge_records(), 0);

    // Another name: a new certificate written over the old one once issued (no
    // delete first, so the site never points at nothing).
    let two = lab.service("dns-01", 30, "").replace(
        &format!("domains = [\"{NAME}\"]"),
        &format!("domains = [\"{NAME}\", \"git.lab.test\"]"),
    );
    lab.write_spec(&two);
    let plan = lab.infra(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("certificate.gitea will be updated in-place"),
        "{}",
        plan.stdout
    );
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_ne!(lab.cert_attr("fingerprint"), after);
    let domains = &lab.state()["resources"]["certificate.gitea"]["attrs"]["domains"];
    assert_eq!(domains, &serde_json::json!([NAME, "git.lab.test"]));
    assert_eq!(lab.https_get(), BODY);

    // Removing the group removes the site, the key and the certificate.
    lab.write_spec("");
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.cert_files(), Vec::<String>::new());
    assert!(!Path::new(&key_path).exists());
    assert_eq!(lab.challenge_records(), 0);
    let sites: Vec<_> = std::fs::read_dir(lab.nginx.conf_d()).unwrap().collect();
    assert!(sites.is_empty(), "{sites:?}");
}

#[test]
fn http01_through_nginx_and_a_refusal_changes_nothing() {
    let lab = Lab::start();
    let record = format!(
        "[dns_record.gitea]\nzone = \"{ZONE}\"\nname = \"gitea\"\ntype = \"A\"\ncontent = \"127.0.0.1\"\nttl = 60\n\n"
    );

    // No A record yet: the CA cannot reach the name and says so; nothing is written.
    lab.write_spec(&lab.service("http-01", 30, ""));
    let failed = lab.infra(&["apply", "--yes"]);
    assert_ne!(failed.code, 0, "{}", failed.all());
    assert!(
        failed.all().contains("the CA refused gitea.lab.test"),
        "{}",
        failed.all()
    );
    assert_eq!(
        lab.cert_files(),
        Vec::<String>::new(),
        "no key without its certificate"
    );
    let sites: Vec<_> = std::fs::read_dir(lab.nginx.conf_d()).unwrap().collect();
    assert!(
        sites.is_empty(),
        "the site waiting for it stays unwritten: {sites:?}"
    );

    // With the record, pebble fetches the answer from nginx on plain HTTP.
    let spec = format!(
        "{record}{}",
        lab.service("http-01", 30, "depends_on = [\"dns_record.gitea\"]")
    );
    lab.write_spec(&spec);
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.https_get(), BODY);
    // Plain HTTP redirects to the TLS port.
    let (status, _) = labkit::http_get(lab.http_port(), "/", &[("Host", NAME)]).unwrap();
    assert_eq!(status, 301);
    // The temporary challenge server is gone again.
    let names: Vec<String> = std::fs::read_dir(lab.nginx.conf_d())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("acme-challenge")),
        "{names:?}"
    );
    lab.infra(&["plan", "--detailed-exitcode"]).expect(0);
}

/// What validate refuses, with file:line:column, before anything is contacted.
#[test]
fn validate_refuses_certificates_that_cannot_be_issued() {
    let env = TestEnv::new();
    env.git(&["init", "-q", "-b", "main"]);
    env.write(
        "infra.toml",
        "[project]\nname = \"lab\"\n\n\
         [providers.pdns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:9\"\napi_key = \"env:K\"\nzones = [\"lab.test\"]\n\n\
         [providers.web]\nkind = \"nginx\"\nsites_dir = \"/etc/nginx/conf.d\"\n\n\
         [providers.acme]\nkind = \"acme\"\ncert_dir = \"/etc/nginx/certs\"\ndns = \"pdns\"\nproxy = \"web\"\n",
    );
    let cases = [
        (
            "[certificate.a]\ndomains = [\"a.example.org\"]\n",
            "a.example.org is in none of the zones provider `pdns` serves (lab.test)",
            "infra/main.toml:2:",
        ),
        (
            "[certificate.a]\ndomains = [\"a.lab.test\"]\nchallenge = \"tls-alpn-01\"\n",
            "one of \"dns-01\", \"http-01\"",
            "infra/main.toml:3:",
        ),
        (
            "[certificate.a]\ndomains = [\"*.lab.test\"]\nchallenge = \"http-01\"\n",
            "http-01 cannot prove a wildcard name (*.lab.test)",
            "infra/main.toml:2:",
        ),
        (
            "[certificate.a]\ndomains = [\"a.lab.test\"]\nchallenge = \"http-01\"\n",
            "provider `web` has none",
            "infra/main.toml:3:",
        ),
        (
            "[certificate.a]\ndomains = [\"a lab\"]\n",
            "a list of host names",
            "infra/main.toml:2:",
        ),
    ];
    for (spec, message, at) in cases {
        env.write("infra/main.toml", spec);
        let run = env.infra(&["validate"]);
        assert_ne!(run.code, 0, "{spec}: accepted\n{}", run.all());
        assert!(
            run.all().contains(message),
            "{spec}: wanted {message:?}\n{}",
            run.all()
        );
        assert!(run.all().contains(at), "{spec}: wanted {at}\n{}", run.all());
    }
    // A good one passes.
    env.write(
        "infra/main.toml",
        "[certificate.a]\ndomains = [\"a.lab.test\", \"*.lab.test\"]\n",
    );
    env.infra(&["validate"]).expect(0);
}

/// `infra ask` learns HTTPS: a new service with a certificate and a TLS site, and
/// an existing site given one; a project without an acme provider gets one
/// (Let's Encrypt, through its DNS provider and nginx), in the same reviewed commit.
#[test]
fn ask_adds_https_to_new_and_existing_services() {
    let env = TestEnv::lab("");
    let run = env.infra(&["ask", "Deploy gitea with HTTPS"]).expect(0);
    let spec = env.read("infra/gitea.toml");
    assert!(
        spec.contains("[certificate.gitea]"),
        "{}\n{spec}",
        run.all()
    );
    assert!(
        spec.contains("domains = [\"gitea.lab.example.com\"]"),
        "{spec}"
    );
    assert!(
        spec.contains("tls_cert = \"${certificate.gitea.cert_path}\""),
        "{spec}"
    );
    assert!(spec.contains("listen = \"443\""), "{spec}");
    let root = env.read("infra.toml");
    assert!(
        root.contains("[providers.acme]\nkind = \"acme\"\ncert_dir = \"/etc/nginx/certs\""),
        "{root}"
    );
    assert!(root.contains("dns = \"dns\"\nproxy = \"edge\""), "{root}");
    env.infra(&["validate"]).expect(0);

    // An existing plain site: a certificate in its group, TLS on 443.
    env.infra(&["ask", "Deploy wiki on port 8081"]).expect(0);
    env.infra(&[
        "ask",
        "get a Let's Encrypt certificate for the wiki and use it on its proxy",
    ])
    .expect(0);
    let wiki = env.read("infra/wiki.toml");
    assert!(
        wiki.contains("[certificate.wiki]\ngroup = \"wiki\""),
        "{wiki}"
    );
    assert!(
        wiki.contains("tls_key = \"${certificate.wiki.key_path}\""),
        "{wiki}"
    );
    // Asked again: it has HTTPS already, and nothing is written.
    let head = env.head();
    let again = env.infra(&[
        "ask",
        "get a Let's Encrypt certificate for the wiki and use it on its proxy",
    ]);
    assert_ne!(again.code, 0);
    assert!(
        again.all().contains("serves HTTPS already"),
        "{}",
        again.all()
    );
    assert_eq!(env.head(), head);
    env.infra(&["validate"]).expect(0);
}

/// The proxy on another host: key and certificate go there over ssh (the
/// "other host" is this machine behind a private sshd, so the test can look).
#[test]
fn dns01_with_the_proxy_over_ssh() {
    let lab = Lab::start_on(Some(Sshd::start()));
    lab.write_spec(&lab.service("dns-01", 30, ""));
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.https_get(), BODY);
    let key_path = lab.cert_attr("key_path");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{key_path}");
    lab.infra(&["plan", "--detailed-exitcode"]).expect(0);
    let log = lab.ssh.as_ref().unwrap().log_text();
    assert!(log.contains("Accepted publickey"), "{log}");
    lab.write_spec("");
    lab.infra(&["apply", "--yes"]).expect(0);
    assert_eq!(lab.cert_files(), Vec::<String>::new());
}
