//! The `file` provider over SSH: the same cases as `file`, with the root on the
//! far side of a private sshd (`host = "ssh://user@127.0.0.1:PORT"`). The
//! checks look at the directory directly: sshd runs on this machine.

use serde_json::Value;

use super::file::FileHarness;
use super::Harness;
use crate::labkit::sshd::Sshd;

pub struct FileSshHarness {
    pub files: FileHarness,
    pub sshd: Sshd,
}

impl FileSshHarness {
    pub fn new() -> Self {
        FileSshHarness {
            files: FileHarness::new(),
            sshd: Sshd::start(),
        }
    }
}

impl Harness for FileSshHarness {
    fn providers_toml(&self) -> String {
        format!(
            "{}host = \"{}\"\n",
            self.files.providers_toml(),
            self.sshd.host_url()
        )
    }

    fn env(&self) -> Vec<(String, String)> {
        self.sshd.env()
    }

    fn kind(&self) -> &'static str {
        self.files.kind()
    }

    fn body(&self, name: &str, version: u8) -> String {
        self.files.body(name, version)
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        self.files.expect(name)
    }

    fn drift(&self, name: &str) {
        self.files.drift(name)
    }

    fn foreign(&self, name: &str) {
        self.files.foreign(name)
    }

    fn foreign_intact(&self, name: &str) -> bool {
        self.files.foreign_intact(name)
    }

    fn count(&self, name: &str) -> usize {
        self.files.count(name)
    }

    /// The files really went through sshd (it runs here, so the directory
    /// checks alone would not tell).
    fn verify_live(&self, _name: &str, _version: u8) {
        let log = self.sshd.log_text();
        assert!(
            log.contains("Accepted publickey"),
            "no ssh session in the sshd log:\n{log}"
        );
    }
}
