//! The provider conformance suite (see tests/conformance/mod.rs), one module per provider.

mod common;
#[allow(dead_code)]
mod labkit;
#[macro_use]
#[path = "conformance/mod.rs"]
mod conformance;

use conformance::docker::DockerHarness;
use conformance::file::FileHarness;

conformance_suite!(file, FileHarness::new());
conformance_suite!(docker, DockerHarness::new());
