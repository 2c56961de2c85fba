//! The provider conformance suite (see tests/conformance/mod.rs), one module per provider.

mod cloudflare_fake;
mod common;
#[allow(dead_code)]
mod labkit;
#[macro_use]
#[path = "conformance/mod.rs"]
mod conformance;

use conformance::cloudflare::CloudflareHarness;
use conformance::file::FileHarness;

conformance_suite!(file, FileHarness::new());
conformance_suite!(cloudflare, CloudflareHarness::new());
