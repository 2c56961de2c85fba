//! The provider conformance suite (see tests/conformance/mod.rs), one module per provider.

mod common;
#[allow(dead_code)]
mod labkit;
#[macro_use]
#[path = "conformance/mod.rs"]
mod conformance;

use conformance::file::FileHarness;
use conformance::file_ssh::FileSshHarness;
use conformance::nginx::NginxHarness;
use conformance::prometheus::PrometheusHarness;

conformance_suite!(file, FileHarness::new());
conformance_suite!(file_ssh, FileSshHarness::new());
conformance_suite!(nginx, NginxHarness::new());
conformance_suite!(prometheus, PrometheusHarness::new());
