//! The record type table. A type's data is its fields in presentation order
//! (RFC 1035 §5.1 and each type's RFC), less the leading priority of the types
//! that have one: that is the spec's `priority` attribute, as providers keep it
//! apart too (Cloudflare's `priority`, MX and SRV preference).

/// What one field of record data is, for checking and for converting between
/// the spec's form and the zone-file (presentation) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    U8,
    U16,
    U32,
    Ip4,
    Ip6,
    /// A domain name: written without the trailing dot in the spec, `.` for the root.
    Host,
    /// One bare word (a CAA tag, a CERT type, the type a LUA record answers with).
    Word,
    /// A quoted character-string, quotes included in `content`.
    Quoted,
    /// Hexadecimal (digests, fingerprints, certificate associations).
    Hex,
    /// Base64 to the end of the data, spaces allowed (keys, certificates).
    Base64,
    /// TXT data: character-strings, written unquoted and joined in the spec.
    Text,
    /// Free text to the end of the data, at least one word (LOC, LUA code).
    Rest,
    /// `key=value` parameters to the end of the data, possibly none (SVCB).
    Params,
}

impl Field {
    /// Fields that take the rest of the data.
    pub fn is_tail(self) -> bool {
        matches!(
            self,
            Field::Base64 | Field::Text | Field::Rest | Field::Params
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            Field::U8 => "a number from 0 to 255",
            Field::U16 => "a number from 0 to 65535",
            Field::U32 => "a number from 0 to 4294967295",
            Field::Ip4 => "an IPv4 address",
            Field::Ip6 => "an IPv6 address",
            Field::Host => "a host name without the trailing dot (\".\" for none)",
            Field::Word => "one word",
            Field::Quoted => "a quoted string, like \"text\"",
            Field::Hex => "hexadecimal digits",
            Field::Base64 => "base64 data",
            Field::Text => "text",
            Field::Rest => "text",
            Field::Params => "key=value parameters",
        }
    }
}

/// One field of a type's data. `attr`: the spec may give it as an attribute of
/// that name instead of writing `content` (names as in Cloudflare's `data`).
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub name: &'static str,
    pub field: Field,
    pub attr: bool,
}

const fn part(name: &'static str, field: Field) -> Part {
    Part {
        name,
        field,
        attr: true,
    }
}

/// A field that has no attribute of its own (its name would mean something
/// else on another type): written in `content` only.
const fn field(name: &'static str, field: Field) -> Part {
    Part {
        name,
        field,
        attr: false,
    }
}

#[derive(Debug)]
pub struct RecordType {
    pub name: &'static str,
    /// Data fields after the priority.
    pub parts: &'static [Part],
    /// The data starts with a priority (the `priority` attribute).
    pub priority: bool,
    /// A valid `content`, priority apart: for messages and the editor schema.
    pub example: &'static str,
}

const fn rt(name: &'static str, parts: &'static [Part], example: &'static str) -> RecordType {
    RecordType {
        name,
        parts,
        priority: false,
        example,
    }
}

const fn prio(name: &'static str, parts: &'static [Part], example: &'static str) -> RecordType {
    RecordType {
        name,
        parts,
        priority: true,
        example,
    }
}

use Field::*;

const HOST: &[Part] = &[field("target", Host)];
const TLSA_PARTS: &[Part] = &[
    part("usage", U8),
    part("selector", U8),
    part("matching_type", U8),
    part("certificate", Hex),
];

/// Every record type the spec describes. Examples are the `content` of a valid
/// record (priority apart), used in messages and in the editor schema.
pub static TYPES: &[RecordType] = &[
    rt("A", &[field("address", Ip4)], "192.0.2.10"),
    rt("AAAA", &[field("address", Ip6)], "2001:db8::10"),
    rt("CNAME", HOST, "app.example.com"),
    prio("MX", HOST, "mail.example.com"),
    rt("TXT", &[field("text", Text)], "v=spf1 mx -all"),
    rt("NS", HOST, "ns1.example.com"),
    prio(
        "SRV",
        &[part("weight", U16), part("port", U16), part("target", Host)],
        "5 5060 sip.example.com",
    ),
    rt(
        "CAA",
        &[part("flags", U8), part("tag", Word), part("value", Quoted)],
        "0 issue \"letsencrypt.org\"",
    ),
    rt("PTR", HOST, "nas.example.com"),
    rt(
        "SSHFP",
        &[
            part("algorithm", U8),
            part("fp_type", U8),
            part("fingerprint", Hex),
        ],
        "4 2 9f3c…",
    ),
    rt("TLSA", TLSA_PARTS, "3 1 1 0c72…"),
    rt("SMIMEA", TLSA_PARTS, "3 1 1 0c72…"),
    prio(
        "HTTPS",
        &[part("target", Host), part("params", Params)],
        ". alpn=\"h3,h2\"",
    ),
    prio(
        "SVCB",
        &[part("target", Host), part("params", Params)],
        "svc.example.com alpn=\"h2\"",
    ),
    rt(
        "NAPTR",
        &[
            field("order", U16),
            field("preference", U16),
            field("flags", Quoted),
            field("service", Quoted),
            field("regexp", Quoted),
            field("replacement", Host),
        ],
        "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com",
    ),
    rt(
        "DS",
        &[
            part("key_tag", U16),
            part("algorithm", U8),
            part("digest_type", U8),
            part("digest", Hex),
        ],
        "2371 13 2 1F98…",
    ),
    rt(
        "LOC",
        &[field("location", Rest)],
        "51 30 12.748 N 0 7 39.611 W 0.00m 1m 10000m 10m",
    ),
    prio(
        "URI",
        &[part("weight", U16), part("target", Quoted)],
        "1 \"https://www.example.com/\"",
    ),
    rt(
        "CERT",
        &[
            field("cert_type", U16),
            field("key_tag", U16),
            field("algorithm", U8),
            field("certificate", Base64),
        ],
        "3 0 0 mQINBFab",
    ),
    rt("OPENPGPKEY", &[field("key", Base64)], "mQINBFab"),
    rt(
        "DNSKEY",
        &[
            field("flags", U16),
            field("protocol", U8),
            field("algorithm", U8),
            field("public_key", Base64),
        ],
        "257 3 13 mdsswUyr3DPW",
    ),
    rt("SPF", &[field("text", Text)], "v=spf1 mx -all"),
    // PowerDNS only: an apex alias resolved by the server, and records computed by Lua.
    rt("ALIAS", HOST, "lb.example.net"),
    rt(
        "LUA",
        &[field("answers", Word), field("code", Rest)],
        "A \"ifportup(443, {'192.0.2.1', '192.0.2.2'})\"",
    ),
];

/// The row of a type, by its upper-case name.
pub fn record_type(name: &str) -> Option<&'static RecordType> {
    TYPES.iter().find(|t| t.name == name)
}

/// The structured attributes, each with the field it is (one kind per name
/// across all types, which the tests check).
pub const PART_ATTRS: &[&str] = &[
    "weight",
    "port",
    "target",
    "flags",
    "tag",
    "value",
    "algorithm",
    "fp_type",
    "fingerprint",
    "usage",
    "selector",
    "matching_type",
    "certificate",
    "params",
    "key_tag",
    "digest_type",
    "digest",
];
