//! DNS record types: the one table of what each type's data is made of. The
//! spec's `dns_record` checks its `content` against it, composes `content` from
//! structured attributes (`port`, `target`, `tag`, …), and providers convert
//! between the spec's form and their wire form with it. A new type is a row here
//! (and a word in the providers' capability lists), nothing else.

mod rdata;
mod types;

pub use rdata::{
    check_content, compose, from_presentation, parts_given, quote_txt, split_words,
    to_presentation, unquote_txt,
};
pub use types::{record_type, Field, Part, RecordType, PART_ATTRS, TYPES};

/// Every type name, in table order.
pub fn type_names() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|t| t.name)
}

/// Types whose first field is a priority, carried in the `priority` attribute.
pub fn has_priority(rtype: &str) -> bool {
    record_type(rtype).is_some_and(|t| t.priority)
}

/// Types a request may name as a bare word. Left out: those that are also
/// everyday words or mean something else in a request ("https", "alias",
/// "cert", "uri", "loc", "ds", "lua"), and SPF, which requests mean as TXT.
pub const SPOKEN_TYPES: &[&str] = &[
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
    "SVCB",
    "NAPTR",
    "OPENPGPKEY",
    "DNSKEY",
];
