//! Kind schemas: the one table per resource kind that validation, diffing and
//! rendering all read. Diffing is generic over these; providers only normalise.

use serde_json::Value;

/// The type of an attribute, with the checks that go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    /// Integer within an inclusive range.
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// List of strings.
    List,
    /// Table of string values.
    Map,
    /// Address with prefix, e.g. `192.168.1.52/24`.
    Cidr,
    /// Plain IP address.
    Ip,
    /// A host name (RFC 1123 labels, dots allowed).
    Hostname,
    /// DNS owner name relative to a zone (`@` for the apex, `*` allowed as first label).
    DnsName,
    /// DNS zone name.
    Zone,
    /// DNS record type.
    DnsType,
    /// http(s) URL.
    Url,
    /// Path relative to a provider's root: no `..`, not absolute.
    RelPath,
    /// Absolute file path.
    AbsPath,
    /// Octal file mode as a string, e.g. "0644".
    Mode,
    /// Resource or group name.
    Name,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A list of host names a certificate covers (`*.` allowed as the first label).
    Domains,
}

impl Ty {
    pub fn describe(&self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Int { min, max } => format!("an integer from {min} to {max}"),
            Ty::Bool => "true or false".into(),
            Ty::List => "a list of strings".into(),
            Ty::Map => "a table of strings".into(),
            Ty::Cidr => "an address with prefix length, like \"192.168.1.52/24\"".into(),
            Ty::Ip => "an IP address".into(),
            Ty::Hostname => "a host name (letters, digits, '-' and '.')".into(),
            Ty::DnsName => "a record name relative to the zone (\"@\" for the apex)".into(),
            Ty::Zone => "a DNS zone name, like \"example.com\"".into(),
            Ty::DnsType => format!("one of {}", DNS_TYPES.join(", ")),
            Ty::Url => "an http:// or https:// URL".into(),
            Ty::RelPath => "a relative path without '..'".into(),
            Ty::AbsPath => "an absolute path".into(),
            Ty::Mode => "an octal file mode as a string, like \"0644\"".into(),
            Ty::Name => "a name of lowercase letters, digits and '-'".into(),
            Ty::Choice(words) => {
                let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
                format!("one of {}", quoted.join(", "))
            }
            Ty::Domains => "a list of host names, like [\"example.com\", \"*.example.com\"]".into(),
        }
    }
}

/// Every record type `dns_record` describes: the names of `crate::dns::TYPES`,
/// in its order (a test keeps them equal; a const list serves `Ty::describe`).
pub const DNS_TYPES: &[&str] = &[
    "A",
    "AAAA",
    "CNAME",
    "MX",
    "TXT",
    "NS",
    "SRV",
    "CAA",
    "PTR",
    "SSHFP",
    "TLSA",
    "SMIMEA",
    "HTTPS",
    "SVCB",
    "NAPTR",
    "DS",
    "LOC",
    "URI",
    "CERT",
    "OPENPGPKEY",
    "DNSKEY",
    "SPF",
    "ALIAS",
    "LUA",
];

/// A default value for an attribute.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Int(i64),
    Str(&'static str),
    Bool(bool),
}

impl Default {
    pub fn value(&self) -> Value {
        match *self {
            Default::Int(i) => Value::from(i),
            Default::Str(s) => Value::from(s),
            Default::Bool(b) => Value::from(b),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub default: Option<Default>,
    /// A change to this attribute replaces the object.
    pub force_new: bool,
    /// Set by the provider (or derived), never by the user.
    pub computed: bool,
    /// Shown as `(sensitive)` in plans.
    pub sensitive: bool,
    pub help: &'static str,
}

const fn attr(name: &'static str, ty: Ty, help: &'static str) -> Attr {
    Attr {
        name,
        ty,
        required: false,
        default: None,
        force_new: false,
        computed: false,
        sensitive: false,
        help,
    }
}

impl Attr {
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    const fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    const fn default(mut self, d: Default) -> Self {
        self.default = Some(d);
        self
    }
}

#[derive(Debug)]
pub struct KindSchema {
    pub name: &'static str,
    pub attrs: &'static [Attr],
    /// Groups of attributes of which exactly one (`exclusive`) or at least one must be set.
    pub one_of: &'static [OneOf],
    pub summary: &'static str,
    /// The attributes that name one live object within one provider instance: two
    /// resources with equal values would fight over it (empty: none do).
    pub identity: &'static [&'static str],
    /// The attributes that name an object where others see it (a DNS name and
    /// type, a path): a new object beside an unmanaged one with the same values is
    /// shown with a warning and the import that would adopt it instead.
    pub same_name: &'static [&'static str],
}

#[derive(Debug)]
pub struct OneOf {
    pub attrs: &'static [&'static str],
    pub exclusive: bool,
}

impl KindSchema {
    /// Give every attribute with a default and no value (unless `skip` says so) its default.
    pub fn fill_defaults(&self, attrs: &mut super::Attrs, skip: impl Fn(&str) -> bool) {
        for a in self.attrs {
            if let Some(default) = a.default {
                if !attrs.contains_key(a.name) && !skip(a.name) {
                    attrs.insert(a.name.into(), default.value());
                }
            }
        }
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn attr_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attrs.iter().map(|a| a.name)
    }

    pub fn is_sensitive(&self, name: &str) -> bool {
        self.attr(name).is_some_and(|a| a.sensitive)
    }

    pub fn is_force_new(&self, name: &str) -> bool {
        self.attr(name).is_some_and(|a| a.force_new)
    }

    pub fn is_computed(&self, name: &str) -> bool {
        self.attr(name).is_some_and(|a| a.computed)
    }
}

/// Attributes every resource may carry besides its kind's own.
pub const META_ATTRS: &[&str] = &["provider", "group", "depends_on"];

static CONTAINER: KindSchema = KindSchema {
    same_name: &["hostname"],
    identity: &["hostname"],
    name: kinds::CONTAINER,
    summary: "a container (Docker, LXC on Proxmox)",
    attrs: &[
        attr("hostname", Ty::Hostname, "host name inside the container")
            .required()
            .force_new(),
        attr("image", Ty::Str, "image or OS template").force_new(),
        attr("command", Ty::Str, "command to run"),
        attr("cores", Ty::Int { min: 1, max: 512 }, "CPU cores"),
        attr(
            "memory",
            Ty::Int {
                min: 16,
                max: 4_194_304,
            },
            "memory in MiB",
        ),
        attr(
            "disk",
            Ty::Int {
                min: 1,
                max: 65_536,
            },
            "root disk in GiB",
        ),
        attr("ip", Ty::Cidr, "address with prefix, e.g. 192.168.1.52/24"),
        attr(
            "ports",
            Ty::List,
            "published ports, e.g. \"127.0.0.1:8080:80\"",
        ),
        attr("gateway", Ty::Ip, "default gateway"),
        attr("env", Ty::Map, "environment variables").sensitive(),
        attr("start", Ty::Bool, "start after creation").default(Default::Bool(true)),
        attr("address", Ty::Ip, "the IP address without prefix").computed(),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[OneOf {
        attrs: &["ip", "ports"],
        exclusive: false,
    }],
};

static VM: KindSchema = KindSchema {
    same_name: &["hostname"],
    identity: &["hostname"],
    name: kinds::VM,
    summary: "a virtual machine (QEMU on Proxmox)",
    attrs: &[
        attr("hostname", Ty::Hostname, "VM name")
            .required()
            .force_new(),
        attr("image", Ty::Str, "disk image or template to clone").force_new(),
        attr("cores", Ty::Int { min: 1, max: 512 }, "CPU cores"),
        attr(
            "memory",
            Ty::Int {
                min: 16,
                max: 4_194_304,
            },
            "memory in MiB",
        ),
        attr(
            "disk",
            Ty::Int {
                min: 1,
                max: 65_536,
            },
            "disk in GiB",
        ),
        attr("ip", Ty::Cidr, "address with prefix"),
        attr("gateway", Ty::Ip, "default gateway"),
        attr("start", Ty::Bool, "start after creation").default(Default::Bool(true)),
        attr("address", Ty::Ip, "the IP address without prefix").computed(),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[],
};

const U8: Ty = Ty::Int { min: 0, max: 255 };
const U16: Ty = Ty::Int {
    min: 0,
    max: 65_535,
};

static DNS_RECORD: KindSchema = KindSchema {
    same_name: &["zone", "name", "type"],
    identity: &["zone", "name", "type", "content"],
    name: kinds::DNS_RECORD,
    summary: "a DNS record set",
    attrs: &[
        attr("zone", Ty::Zone, "zone, e.g. example.com")
            .required()
            .force_new(),
        attr(
            "name",
            Ty::DnsName,
            "name relative to the zone, @ for the apex",
        )
        .required()
        .force_new(),
        attr("type", Ty::DnsType, "record type")
            .required()
            .force_new(),
        attr(
            "content",
            Ty::Str,
            "record data in zone-file form, host names without the trailing dot (or give its parts: port, target, …)",
        ),
        attr(
            "ttl",
            Ty::Int {
                min: 1,
                max: 604_800,
            },
            "time to live in seconds (1 = automatic on Cloudflare)",
        )
        .default(Default::Int(300)),
        attr(
            "priority",
            Ty::Int {
                min: 0,
                max: 65_535,
            },
            "priority of MX, SRV, URI, SVCB and HTTPS records",
        ),
        // The parts of structured types, an alternative to `content` (see crate::dns).
        attr("weight", U16, "SRV/URI weight"),
        attr("port", U16, "SRV port"),
        attr(
            "target",
            Ty::Str,
            "SRV/SVCB/HTTPS target host (\".\" for none), URI target",
        ),
        attr("flags", U8, "CAA flags (128: critical)"),
        attr("tag", Ty::Str, "CAA tag: issue, issuewild or iodef"),
        attr("value", Ty::Str, "CAA value, e.g. letsencrypt.org"),
        attr("algorithm", U8, "SSHFP/DS algorithm number"),
        attr("fp_type", U8, "SSHFP fingerprint type (1 SHA-1, 2 SHA-256)"),
        attr("fingerprint", Ty::Str, "SSHFP fingerprint, hexadecimal"),
        attr("usage", U8, "TLSA/SMIMEA certificate usage"),
        attr("selector", U8, "TLSA/SMIMEA selector"),
        attr("matching_type", U8, "TLSA/SMIMEA matching type"),
        attr(
            "certificate",
            Ty::Str,
            "TLSA/SMIMEA certificate association data, hexadecimal",
        ),
        attr(
            "params",
            Ty::Str,
            "SVCB/HTTPS parameters, e.g. alpn=\"h3,h2\" port=8443",
        ),
        attr("key_tag", U16, "DS key tag"),
        attr("digest_type", U8, "DS digest type"),
        attr("digest", Ty::Str, "DS digest, hexadecimal"),
        attr(
            "proxied",
            Ty::Bool,
            "Cloudflare proxy (never for private addresses)",
        )
        .default(Default::Bool(false)),
        attr("fqdn", Ty::Hostname, "fully qualified name").computed(),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[],
};

static PROXY_SITE: KindSchema = KindSchema {
    same_name: &["server_name"],
    identity: &["server_name", "listen"],
    name: kinds::PROXY_SITE,
    summary: "a reverse-proxy site",
    attrs: &[
        attr("server_name", Ty::Hostname, "host name the site answers to").required(),
        attr(
            "upstream",
            Ty::Url,
            "where requests go, e.g. http://10.0.0.5:8080",
        )
        .required(),
        attr("listen", Ty::Str, "listen address or port").default(Default::Str("80")),
        attr("tls_cert", Ty::AbsPath, "certificate path"),
        attr("tls_key", Ty::AbsPath, "private key path"),
        attr(
            "http_listen",
            Ty::Str,
            "with TLS: where plain HTTP is answered (a redirect to https, and ACME http-01); default 80",
        ),
        attr("allow", Ty::List, "CIDRs allowed (internal-only sites)"),
        attr("websocket", Ty::Bool, "pass websocket upgrades").default(Default::Bool(false)),
        attr(
            "client_max_body_size",
            Ty::Str,
            "largest request body, e.g. 10m",
        ),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[],
};

static MONITOR: KindSchema = KindSchema {
    same_name: &[],
    identity: &[],
    name: kinds::MONITOR,
    summary: "an HTTP check",
    attrs: &[
        attr("url", Ty::Url, "URL to probe").required(),
        attr(
            "interval",
            Ty::Int {
                min: 1,
                max: 86_400,
            },
            "seconds between checks",
        )
        .default(Default::Int(30)),
        attr(
            "expect_status",
            Ty::Int { min: 100, max: 599 },
            "expected HTTP status",
        )
        .default(Default::Int(200)),
        attr(
            "timeout",
            Ty::Int { min: 1, max: 600 },
            "seconds before a check fails",
        )
        .default(Default::Int(10)),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[],
};

static FILE: KindSchema = KindSchema {
    same_name: &["path"],
    identity: &["path"],
    name: kinds::FILE,
    summary: "a file under the provider's root",
    attrs: &[
        attr("path", Ty::RelPath, "path relative to the provider's root")
            .required()
            .force_new(),
        attr("content", Ty::Str, "file content"),
        attr(
            "template",
            Ty::RelPath,
            "template under templates/, rendered with [vars]",
        ),
        attr("mode", Ty::Mode, "file mode").default(Default::Str("0644")),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[OneOf {
        attrs: &["content", "template"],
        exclusive: true,
    }],
};

static CERTIFICATE: KindSchema = KindSchema {
    same_name: &[],
    identity: &[],
    name: kinds::CERTIFICATE,
    summary: "a TLS certificate from an ACME CA (Let's Encrypt by default)",
    attrs: &[
        attr(
            "domains",
            Ty::Domains,
            "names it covers; the first is the subject, e.g. [\"git.example.com\"]",
        )
        .required(),
        attr(
            "challenge",
            Ty::Choice(CHALLENGES),
            "how the CA checks control: dns-01 (a TXT record) or http-01 (a file on the site)",
        )
        .default(Default::Str("dns-01")),
        attr(
            "directory",
            Ty::Url,
            "ACME directory URL; default the provider's (Let's Encrypt)",
        ),
        attr(
            "contact",
            Ty::Str,
            "account e-mail for expiry notices; default the provider's",
        ),
        // A change of these issues a new certificate in place (see the acme
        // provider): never delete-then-create, which would leave a site
        // pointing at nothing if the CA then refused.
        attr("key_type", Ty::Choice(KEY_TYPES), "private key algorithm")
            .default(Default::Str("ec256")),
        attr(
            "renew_before",
            Ty::Int { min: 1, max: 3650 },
            "days before expiry at which the plan renews it",
        )
        .default(Default::Int(30)),
        attr("cert_path", Ty::AbsPath, "the certificate chain (PEM)").computed(),
        attr("key_path", Ty::AbsPath, "the private key (PEM, mode 0600)").computed(),
        attr(
            "not_after",
            Ty::Str,
            "expiry, RFC 3339 (as the CA issued it)",
        )
        .computed(),
        attr(
            "fingerprint",
            Ty::Str,
            "SHA-256 of the certificate (DER), hex",
        )
        .computed(),
        attr("id", Ty::Str, "provider's id").computed(),
    ],
    one_of: &[],
};

/// ACME challenge types infra can answer.
pub const CHALLENGES: &[&str] = &["dns-01", "http-01"];
/// Private key algorithms for certificates.
pub const KEY_TYPES: &[&str] = &["ec256", "ec384"];

/// The resource kinds by name: the one list validation, providers, capabilities
/// and ask refer to (a new kind adds a name here and a schema above).
pub mod kinds {
    pub const CONTAINER: &str = "container";
    pub const VM: &str = "vm";
    pub const DNS_RECORD: &str = "dns_record";
    pub const PROXY_SITE: &str = "proxy_site";
    pub const MONITOR: &str = "monitor";
    pub const FILE: &str = "file";
    pub const CERTIFICATE: &str = "certificate";
}

static KINDS: &[&KindSchema] = &[
    &CONTAINER,
    &VM,
    &DNS_RECORD,
    &PROXY_SITE,
    &MONITOR,
    &FILE,
    &CERTIFICATE,
];

/// The schema of a kind, or `None` for an unknown kind.
pub fn kind(name: &str) -> Option<&'static KindSchema> {
    KINDS.iter().copied().find(|k| k.name == name)
}

pub fn kinds() -> &'static [&'static KindSchema] {
    KINDS
}

/// Computed attributes that follow from others, so references to them are known at plan time.
pub fn derive_computed(kind: &str, attrs: &mut std::collections::BTreeMap<String, Value>) {
    match kind {
        kinds::CONTAINER | kinds::VM => {
            if let Some(ip) = attrs.get("ip").and_then(Value::as_str) {
                let addr = ip.split('/').next().unwrap_or(ip).to_string();
                attrs.insert("address".into(), Value::from(addr));
            }
        }
        kinds::DNS_RECORD => {
            // Parts given as attributes become `content` (checked at validate),
            // so providers, the diff and the state see one form.
            let rtype = attrs.get("type").and_then(Value::as_str).unwrap_or("");
            if !attrs.contains_key("content") {
                if let Some(Ok(content)) = crate::dns::compose(rtype, attrs) {
                    for part in crate::dns::parts_given(attrs) {
                        attrs.remove(part);
                    }
                    attrs.insert("content".into(), Value::from(content));
                }
            }
            let zone = attrs
                .get("zone")
                .and_then(Value::as_str)
                .map(|z| z.trim_end_matches('.'));
            let name = attrs.get("name").and_then(Value::as_str);
            if let (Some(zone), Some(name)) = (zone, name) {
                let fqdn = if name == "@" {
                    zone.to_string()
                } else {
                    format!("{name}.{zone}")
                };
                attrs.insert("fqdn".into(), Value::from(fqdn));
            }
        }
        _ => {}
    }
}

/// Computed attributes a renewal changes.
pub const RENEWED: &[&str] = &["not_after", "fingerprint"];

/// A live object that must be rewritten though its attributes match: a
/// certificate inside its renew-before window. `Some(days left)` (negative when
/// already expired), read from the live `not_after` and the wanted `renew_before`.
pub fn renewal_due(
    kind: &str,
    live: &std::collections::BTreeMap<String, Value>,
    wanted: &std::collections::BTreeMap<String, Value>,
    now: i64,
) -> Option<i64> {
    if kind != kinds::CERTIFICATE {
        return None;
    }
    // One whose certificate cannot be read is issued again now.
    let Some(not_after) = live
        .get("not_after")
        .and_then(Value::as_str)
        .and_then(crate::time::parse_utc)
    else {
        return live.contains_key("unreadable").then_some(0);
    };
    let before = wanted
        .get("renew_before")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    let left = not_after - now;
    (left <= before * 86_400).then_some(left.div_euclid(86_400))
}

#[cfg(test)]
mod renewal_tests {
    use super::*;
    use crate::time::parse_utc;

    #[test]
    fn renewal_inside_the_window_only() {
        let live: std::collections::BTreeMap<String, Value> =
            [("not_after".to_string(), Value::from("2030-01-31T00:00:00Z"))].into();
        let wanted = [("renew_before".to_string(), Value::from(30))].into();
        let jan1 = parse_utc("2030-01-01T00:00:00Z").unwrap();
        let dec1 = parse_utc("2029-12-01T00:00:00Z").unwrap();
        assert_eq!(
            renewal_due(kinds::CERTIFICATE, &live, &wanted, jan1),
            Some(30)
        );
        assert_eq!(renewal_due(kinds::CERTIFICATE, &live, &wanted, dec1), None);
        assert_eq!(renewal_due(kinds::FILE, &live, &wanted, jan1), None);
    }
}
