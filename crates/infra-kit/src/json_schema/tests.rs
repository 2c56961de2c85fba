//! The generated schema, checked with a real validator (the `jsonschema` crate)
//! on spec texts read as the loader reads them. The real providers' schema and
//! the repository's examples are checked in the `infra` crate's tests/schema.rs.

use serde_json::{json, Value};

use infra_core::spec::check;
use infra_core::spec::load::file_json;
use infra_core::spec::schema::{kinds, Ty, CHALLENGES, DNS_TYPES, KEY_TYPES};

use super::{spec_schema, values};
use crate::{check_settings, KindSupport, ProviderInfo, Setting, Settings};

#[derive(serde::Deserialize)]
struct Anything {}
impl Settings for Anything {}

/// A provider with a required secret, a required and an optional setting, and
/// per-resource settings for containers.
static VAULT: ProviderInfo = ProviderInfo {
    kind: "vault",
    kinds: &[KindSupport {
        settings: &["storage"],
        ..KindSupport::plain("container")
    }],
    settings: &[
        Setting::required("endpoint", "https://HOST"),
        Setting::secret("token", "API token, as env:NAME"),
        Setting::optional("zone", "where"),
    ],
    check_settings: check_settings::<Anything>,
    check_spec: None,
    audit: None,
};

fn catalog() -> Vec<&'static ProviderInfo> {
    vec![&crate::memory::INFO, &VAULT]
}

/// What the schema says of a spec file's text: its errors, empty when accepted.
fn errors(text: &str) -> Vec<String> {
    let schema = spec_schema(&catalog());
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let instance = file_json(text).expect("test texts are TOML");
    validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[track_caller]
fn accepted(text: &str) {
    let e = errors(text);
    assert!(e.is_empty(), "rejected:\n{text}\n{e:#?}");
}

#[track_caller]
fn rejected(text: &str) {
    assert!(!errors(text).is_empty(), "accepted:\n{text}");
}

const CONTAINER: &str = "[container.web]\nhostname = \"web\"\nip = \"10.0.0.5/24\"\n";

#[test]
fn is_a_draft_07_schema() {
    let schema = spec_schema(&catalog());
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::meta::validate(&schema).expect("valid against the draft-07 meta-schema");
}

#[test]
fn every_kind_and_every_settable_attribute() {
    let schema = spec_schema(&catalog());
    for kind in kinds() {
        assert!(schema["properties"][kind.name].is_object(), "{}", kind.name);
        let def = &schema["definitions"][kind.name];
        for a in kind.attrs {
            let described = &def["properties"][a.name];
            if a.computed {
                assert!(described.is_null(), "{}.{} is computed", kind.name, a.name);
            } else {
                assert!(described.is_object(), "{}.{}", kind.name, a.name);
                let text = described["description"].as_str().unwrap();
                assert!(text.contains(a.help), "{text}");
                assert!(text.contains(&a.ty.describe()), "{text}");
                assert_eq!(
                    described.get("default"),
                    a.default.map(|d| d.value()).as_ref()
                );
            }
        }
        let required: Vec<&str> = kind
            .attrs
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name)
            .collect();
        assert_eq!(def["required"], json!(required), "{}", kind.name);
    }
}

#[test]
fn a_computed_attribute_is_refused() {
    accepted(CONTAINER);
    rejected(&format!("{CONTAINER}address = \"10.0.0.5\"\n"));
    rejected(&format!("{CONTAINER}id = \"x\"\n"));
}

#[test]
fn unknown_kinds_tables_and_attributes_are_refused() {
    rejected("[containr.web]\nhostname = \"web\"\n");
    rejected("[state]\nx = 1\n");
    rejected(&format!("{CONTAINER}cpus = 2\n"));
    rejected("[container.Web]\nhostname = \"web\"\nip = \"10.0.0.5/24\"\n");
}

#[test]
fn integers_keep_to_their_range() {
    accepted(&format!("{CONTAINER}cores = 1\nmemory = 16\n"));
    accepted(&format!("{CONTAINER}cores = 512\n"));
    rejected(&format!("{CONTAINER}cores = 0\n"));
    rejected(&format!("{CONTAINER}cores = 513\n"));
    rejected(&format!("{CONTAINER}memory = 15\n"));
    rejected(&format!("{CONTAINER}cores = \"many\"\n"));
    rejected(&format!("{CONTAINER}start = \"yes\"\n"));
}

#[test]
fn a_reference_stands_for_any_value() {
    accepted(&format!(
        "{CONTAINER}cores = \"${{vars.cores}}\"\nstart = \"${{ vars.start }}\"\ngateway = \"${{vm.router.address}}\"\nports = \"${{vars.ports}}\"\n"
    ));
    accepted(concat!(
        "[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ntype = \"A\"\n",
        "content = \"${container.web.address}\"\nttl = \"${vars.ttl}\"\n",
    ));
    accepted("[proxy_site.web]\nserver_name = \"web.example.com\"\nupstream = \"http://${container.web.address}:8080\"\n");
    // Escaped, or not a reference at all: the literal type applies.
    rejected(&format!("{CONTAINER}cores = \"$${{vars.cores}}\"\n"));
    rejected(&format!("{CONTAINER}cores = \"${{vars}}\"\n"));
    rejected(&format!("{CONTAINER}cores = \"${{container.x}}\"\n"));
}

#[test]
fn unknown_words_are_refused() {
    let record = "[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ncontent = \"x\"\n";
    for t in DNS_TYPES {
        accepted(&format!("{record}type = \"{t}\"\n"));
    }
    rejected(&format!("{record}type = \"AXFR\"\n"));
    rejected(&format!("{record}type = \"a\"\n"));
    let cert = "[certificate.c]\ndomains = [\"example.com\"]\n";
    accepted(&format!(
        "{cert}challenge = \"{}\"\nkey_type = \"{}\"\n",
        CHALLENGES[1], KEY_TYPES[1]
    ));
    rejected(&format!("{cert}challenge = \"tls-alpn-01\"\n"));
    rejected(&format!("{cert}key_type = \"rsa\"\n"));
    rejected("[certificate.c]\ndomains = []\n");
    rejected("[certificate.c]\ndomains = [\"localhost\"]\n");
}

#[test]
fn required_attributes_and_one_of_groups() {
    rejected("[container.web]\nip = \"10.0.0.5/24\"\n");
    // container: ip or ports, at least one.
    rejected("[container.web]\nhostname = \"web\"\n");
    accepted("[container.web]\nhostname = \"web\"\nports = [\"8080:80\"]\n");
    accepted("[container.web]\nhostname = \"web\"\nports = [\"8080:80\"]\nip = \"10.0.0.5/24\"\n");
    // file: content or template, exactly one.
    accepted("[file.a]\npath = \"a.txt\"\ncontent = \"x\"\n");
    accepted("[file.a]\npath = \"a.txt\"\ntemplate = \"a.j2\"\n");
    rejected("[file.a]\npath = \"a.txt\"\n");
    rejected("[file.a]\npath = \"a.txt\"\ncontent = \"x\"\ntemplate = \"a.j2\"\n");
    rejected("[file.a]\npath = \"../a.txt\"\ncontent = \"x\"\n");
}

#[test]
fn meta_attributes() {
    accepted(&format!(
        "{CONTAINER}provider = \"pve1\"\ngroup = \"web\"\ndepends_on = [\"vm.db\"]\n"
    ));
    rejected(&format!("{CONTAINER}group = \"Web Site\"\n"));
    rejected(&format!("{CONTAINER}depends_on = [\"db\"]\n"));
    rejected(&format!("{CONTAINER}provider = 1\n"));
}

#[test]
fn provider_settings_by_kind() {
    let vault = "[providers.v]\nkind = \"vault\"\nendpoint = \"https://v\"\n";
    accepted(&format!("{vault}token = \"env:VAULT_TOKEN\"\n"));
    accepted(&format!(
        "{vault}token = \"file:/run/secrets/t\"\nzone = \"z\"\nretries = 2\n"
    ));
    // A literal secret, a missing required setting, one of another kind, an unknown kind.
    rejected(&format!("{vault}token = \"s3cr3t\"\n"));
    rejected("[providers.v]\nkind = \"vault\"\ntoken = \"env:T\"\n");
    rejected(&format!("{vault}token = \"env:T\"\nlatency_ms = 5\n"));
    rejected("[providers.v]\nkind = \"vaultt\"\n");
    rejected("[providers.v]\nendpoint = \"https://v\"\n");
    accepted("[providers.m]\nkind = \"memory\"\nlatency_ms = 5\n");
    rejected("[providers.m]\nkind = \"memory\"\nendpoint = \"https://v\"\n");
}

#[test]
fn per_resource_provider_tables() {
    accepted(&format!(
        "{CONTAINER}[container.web.vault]\nstorage = \"fast\"\n"
    ));
    rejected(&format!(
        "{CONTAINER}[container.web.vault]\nbridge = \"vmbr0\"\n"
    ));
    // memory does not serve containers; the env map is an attribute, not a provider's table.
    rejected(&format!("{CONTAINER}[container.web.memory]\nx = 1\n"));
    accepted(&format!(
        "{CONTAINER}[container.web.env]\nTZ = \"UTC\"\nWORKERS = 4\n"
    ));
}

#[test]
fn infra_toml_tables() {
    accepted(concat!(
        "[project]\nname = \"lab\"\ndomain = \"lab.example.com\"\n",
        "[pools.lan]\ncidr = \"10.0.0.0/24\"\nrange = \"10.0.0.50 - 10.0.0.99\"\ngateway = \"10.0.0.1\"\n",
        "[policy]\nprotect = [\"container.db\"]\nmax_destroy = 0\n",
        "[vars]\n\"web-service.memory\" = 1024\nname = \"x\"\n",
        "[ai]\nbackend = \"openai\"\napi_key = \"env:OPENAI_API_KEY\"\n",
        "[outputs]\nurl = \"https://${proxy_site.web.server_name}/\"\ndb = { value = \"${container.db.env}\", sensitive = true }\n",
    ));
    rejected("[project]\nowner = \"me\"\n");
    rejected("[pools.lan]\nrange = \"10.0.0.50-10.0.0.99\"\n");
    rejected("[policy]\nmax_destroy = -1\n");
    rejected("[ai]\napi_key = \"sk-live-123\"\n");
    rejected("[outputs]\nurl = { text = \"x\" }\n");
    rejected("[outputs]\nBad = \"x\"\n");
}

/// Strings that probe the edges of each pattern.
const PROBES: &[&str] = &[
    "",
    "a",
    "A",
    "a.b",
    "a-b.c",
    "-a",
    "a-",
    "a..b",
    "a.",
    "a..",
    ".",
    "a_b",
    "_dmarc",
    "_sip._tcp",
    "*",
    "*.a",
    "*.a.b",
    "*.",
    "@",
    "@.a",
    "a.*",
    "xn--bcher-kva.example",
    "10.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3",
    "1.2.3.4.5",
    "::",
    "::1",
    "fe80::1",
    "::ffff:1.2.3.4",
    "2001:db8::/32",
    "10.0.0.1/8",
    "10.0.0.1/0",
    "10.0.0.1/32",
    "10.0.0.1/33",
    "10.0.0.1/024",
    "10.0.0.1/9",
    "::/0",
    "::1/128",
    "::1/129",
    "::1/99",
    "::1/100",
    "::1/09",
    "::1/0009",
    "::1/00128",
    "10.0.0.1/09",
    "10.0.0.1/008",
    "1.2.3.4/",
    "1.2.3.4 /24",
    "http://h",
    "https://h:8080/x?y#z",
    "http://",
    "http:///x",
    "ftp://x",
    "http://h/$x",
    "http://[::1]:8080/",
    "http://h:99999",
    "http://u:p@h:1/",
    "https://h x",
    "http://h;rm",
    "a/b",
    "../a",
    "a/../b",
    "a/./b",
    "a//b",
    "a/",
    "./a",
    "..a",
    "a..",
    "...",
    "/a",
    "/",
    "//",
    "/a/..",
    "/a/../b",
    "/a b",
    "/a;b",
    "/a/.b",
    "/a/..b",
    "/a/...",
    "/.",
    "/a/",
    "644",
    "0644",
    "0888",
    "06444",
    "64",
    "0x64",
    "web",
    "web-1",
    "web_1",
    "Web",
    "1web",
    "A",
    "AAAA",
    "CNAME",
    "txt",
    "AXFR",
];

/// Accepted by this type's literal schema (the reference definition included).
fn schema_accepts(ty: Ty, instance: &Value) -> bool {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"reference": values::reference()},
        "allOf": [values::literal(ty)],
    });
    jsonschema::validator_for(&schema)
        .expect("compiles")
        .is_valid(instance)
}

#[test]
fn patterns_are_never_stricter_than_check() {
    let long_label = format!("{}.example", "a".repeat(63));
    let too_long = format!("{}.example", "a".repeat(64));
    let mut probes: Vec<String> = PROBES.iter().map(|s| s.to_string()).collect();
    probes.extend([long_label, too_long, "a".repeat(63), "a".repeat(64)]);
    let tys = [
        Ty::Cidr,
        Ty::Ip,
        Ty::Hostname,
        Ty::DnsName,
        Ty::Zone,
        Ty::DnsType,
        Ty::Url,
        Ty::RelPath,
        Ty::AbsPath,
        Ty::Mode,
        Ty::Name,
        Ty::Choice(CHALLENGES),
    ];
    let mut looser = Vec::new();
    for ty in tys {
        for p in &probes {
            let v = Value::from(p.as_str());
            let ours = schema_accepts(ty, &v);
            match check::check(ty, &v) {
                Ok(()) => assert!(
                    ours,
                    "{ty:?}: the schema refuses {p:?}, which check accepts"
                ),
                Err(_) if ours => looser.push(format!("{ty:?} {p:?}")),
                Err(_) => {}
            }
        }
    }
    for p in &probes {
        let v = json!([p, "example.com"]);
        if check::check(Ty::Domains, &v).is_ok() {
            assert!(schema_accepts(Ty::Domains, &v), "domains {p:?}");
        }
    }
    // Looser only where an exact pattern would be long: IPv6, prefix lengths, a URL's port.
    assert!(looser.len() <= 8, "looser than check: {looser:#?}");
}

#[test]
fn the_compact_view_names_attributes_types_values_and_ranges() {
    let schema = spec_schema(&catalog());
    let text = super::compact(&schema, &["dns_record", "no_such_kind"]);
    eprintln!(
        "{}",
        super::compact(
            &schema,
            &["container", "dns_record", "proxy_site", "monitor"]
        )
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    let line = text.lines().next().unwrap();
    assert!(line.starts_with("dns_record: "), "{line}");
    assert!(line.contains("zone* string"), "{line}");
    assert!(
        line.contains(&format!("type* string ({}", DNS_TYPES[0])),
        "{line}"
    );
    assert!(line.contains("ttl integer"), "{line}");
    // Meta attributes and provider tables are the same everywhere: left out.
    assert!(
        !line.contains("depends_on") && !line.contains("group "),
        "{line}"
    );
    // Every attribute the view names is one the schema accepts.
    for part in line["dns_record: ".len()..].split(", ") {
        let name = part.split([' ', '*']).next().unwrap();
        assert!(
            schema["definitions"]["dns_record"]["properties"]
                .get(name)
                .is_some(),
            "{name}"
        );
    }
}
