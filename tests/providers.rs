//! The provider conformance suite (see tests/conformance/mod.rs), one module per provider.
// Both fakes carry the same small HTTP/1 reader, each as its own module.
#![allow(clippy::duplicate_mod)]

mod cloudflare_fake;
mod common;
mod labkit;
#[path = "support/proxmox_fake/mod.rs"]
mod proxmox_fake;
#[macro_use]
#[path = "conformance/mod.rs"]
mod conformance;

use conformance::cloudflare::CloudflareHarness;
use conformance::docker::DockerHarness;
use conformance::file::FileHarness;
use conformance::file_ssh::FileSshHarness;
use conformance::nginx::NginxHarness;
use conformance::powerdns::PowerDnsHarness;
use conformance::prometheus::PrometheusHarness;
use conformance::proxmox::ProxmoxHarness;

conformance_suite!(file, FileHarness::new());
conformance_suite!(file_ssh, FileSshHarness::new());
conformance_suite!(cloudflare, CloudflareHarness::new());
conformance_suite!(proxmox, ProxmoxHarness::new());
conformance_suite!(docker, DockerHarness::new());
conformance_suite!(nginx, NginxHarness::new());
conformance_suite!(prometheus, PrometheusHarness::new());
conformance_suite!(powerdns, PowerDnsHarness::new());

#[test]
fn powerdns_dig_answers_after_apply() {
    conformance::powerdns::dig_answers_after_apply()
}

#[test]
fn docker_settings_restart_in_place_labels_replace() {
    conformance::docker::settings_restart_in_place_labels_replace()
}
