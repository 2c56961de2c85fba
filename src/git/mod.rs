//! Git as the state history. The only module that names git2.
//! (temporary stub: replaced by the real module)
#![allow(unused)]
use std::path::Path;
use crate::error::Result;
pub struct Repo;
pub struct HistoryEntry { pub id: String, pub short: String, pub time: i64, pub date: String, pub summary: String, pub trailers: Vec<(String, String)> }
impl Repo {
    pub fn open(project_root: &Path) -> Result<Repo> { todo!() }
    pub fn init(dir: &Path) -> Result<Repo> { todo!() }
    pub fn head(&self) -> Result<Option<String>> { todo!() }
    pub fn current_branch(&self) -> Result<String> { todo!() }
    pub fn dirty(&self, pathspecs: &[&str]) -> Result<Vec<String>> { todo!() }
    pub fn commit_paths(&self, paths: &[&str], message: &str) -> Result<Option<String>> { todo!() }
    pub fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>> { todo!() }
    pub fn resolve(&self, rev: &str) -> Result<String> { todo!() }
    pub fn restore(&self, rev: &str, pathspecs: &[&str]) -> Result<Vec<String>> { todo!() }
    pub fn create_and_switch_branch(&self, name: &str) -> Result<()> { todo!() }
    pub fn file_at(&self, rev: &str, path: &str) -> Result<Option<String>> { todo!() }
}
pub fn message(subject: &str, body: Option<&str>, trailers: &[(&str, String)]) -> String { todo!() }
