//! The `file` provider's harness: the live system is a directory.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::Harness;

pub struct FileHarness {
    pub root: tempfile::TempDir,
}

impl FileHarness {
    pub fn new() -> Self {
        FileHarness {
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(format!("{name}.conf"))
    }
}

impl Harness for FileHarness {
    fn providers_toml(&self) -> String {
        format!(
            "[providers.disk]\nkind = \"file\"\nroot = \"{}\"\n",
            self.root.path().display()
        )
    }

    fn kind(&self) -> &'static str {
        "file"
    }

    fn body(&self, name: &str, version: u8) -> String {
        match version {
            0 => format!("path = \"{name}.conf\"\ncontent = \"v0\\n\""),
            1 => format!("path = \"{name}.conf\"\ncontent = \"v1\\n\"\nmode = \"0600\""),
            // path forces replacement
            _ => format!("path = \"{name}.cfg\"\ncontent = \"v0\\n\""),
        }
    }

    fn expect(&self, name: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("path", json!(format!("{name}.conf"))),
            ("content", json!("v0\n")),
            ("mode", json!("0644")),
        ]
    }

    fn drift(&self, name: &str) {
        let p = self.path(name);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text + "edited by hand\n").unwrap();
    }

    fn foreign(&self, name: &str) {
        std::fs::write(self.path(name), "not infra's\n").unwrap();
    }

    fn foreign_intact(&self, name: &str) -> bool {
        std::fs::read_to_string(self.path(name)).is_ok_and(|t| t == "not infra's\n")
    }

    fn count(&self, name: &str) -> usize {
        [format!("{name}.conf"), format!("{name}.cfg")]
            .iter()
            .filter(|f| self.root.path().join(f).exists())
            .count()
    }
}
