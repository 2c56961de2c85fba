//! DNS-01 through the Cloudflare provider: the challenge TXT record is created
//! and removed by the same provider code as every record, with its marker, and
//! every request is checked against Cloudflare's OpenAPI document by the
//! loopback imitation (tests/cloudflare_fake). pebble cannot query that
//! imitation, so it accepts the answer without looking (PEBBLE_VA_ALWAYS_VALID);
//! what is tested here is what infra sent to Cloudflare, and that it cleaned up.

mod cloudflare_fake;
mod common;
mod labkit;

use cloudflare_fake::{FakeCloudflare, TOKEN};
use common::TestEnv;
use labkit::free_port;
use labkit::pebble::Pebble;

const ZONE: &str = "example.com";

#[test]
fn dns01_through_cloudflare_creates_and_removes_the_challenge_record() {
    let fake = FakeCloudflare::with_zone(ZONE);
    let pebble = Pebble::start_with(free_port(), free_port(), true);
    let certs = tempfile::tempdir().unwrap();
    let env = TestEnv::new();
    env.git(&["init", "-q", "-b", "main"]);
    env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
    env.write(
        "infra.toml",
        &format!(
            "[project]\nname = \"agency\"\n\n\
             [providers.cf]\nkind = \"cloudflare\"\ntoken = \"env:CF_TOKEN\"\napi_url = \"{api}\"\nzones = [\"{ZONE}\"]\n\n\
             [providers.acme]\nkind = \"acme\"\ncert_dir = \"{certs}\"\ndns = \"cf\"\ndirectory = \"{dir}\"\nca_cert = \"{ca}\"\n",
            api = fake.url(),
            certs = certs.path().display(),
            dir = pebble.directory(),
            ca = pebble.server_ca().display(),
        ),
    );
    env.write(
        "infra/main.toml",
        "[certificate.shop]\ndomains = [\"shop.example.com\", \"*.shop.example.com\"]\n",
    );
    env.commit_all("spec");
    fake.clear_requests();
    let run = env.infra_with_secrets(&["apply", "--yes"], &[("CF_TOKEN", TOKEN)]);
    assert_eq!(run.code, 0, "{}\npebble:\n{}", run.all(), pebble.log());

    // One TXT per name (the apex and its wildcard share one, answered in turn),
    // each marked as the certificate's challenge, each deleted again.
    let seen = fake.requests();
    let created: Vec<_> = seen
        .iter()
        .filter(|r| r.method == "POST" && r.body["type"] == "TXT")
        .collect();
    assert_eq!(created.len(), 2, "{:#?}", fake.calls());
    for r in &created {
        assert_eq!(
            r.body["name"], "_acme-challenge.shop.example.com",
            "{:?}",
            r.body
        );
        assert_eq!(
            r.body["comment"],
            "infra:agency/certificate.shop/acme-challenge"
        );
        // base64url of a SHA-256: 43 characters.
        assert_eq!(
            r.body["content"].as_str().map(str::len),
            Some(43),
            "{:?}",
            r.body
        );
    }
    let deletes = seen.iter().filter(|r| r.method == "DELETE").count();
    assert_eq!(deletes, 2, "{:#?}", fake.calls());
    assert!(fake.named(ZONE, "_acme-challenge.shop").is_empty());
    assert!(fake.violations().is_empty(), "{:#?}", fake.violations());

    // The certificate covers both names; the state has no key.
    let state = env.read(".infra/state.json");
    assert!(state.contains("\"*.shop.example.com\""), "{state}");
    assert!(!state.contains("PRIVATE KEY"));
    env.infra_with_secrets(&["plan", "--detailed-exitcode"], &[("CF_TOKEN", TOKEN)])
        .expect(0);
}
