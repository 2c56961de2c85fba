//! The provider conformance suite (see tests/conformance/mod.rs), one module per provider.

mod common;
#[allow(dead_code)]
mod labkit;
#[macro_use]
#[path = "conformance/mod.rs"]
mod conformance;

use conformance::file::FileHarness;
use conformance::powerdns::PowerDnsHarness;

conformance_suite!(file, FileHarness::new());
conformance_suite!(powerdns, PowerDnsHarness::new());

#[test]
fn powerdns_dig_answers_after_apply() {
    conformance::powerdns::dig_answers_after_apply()
}
