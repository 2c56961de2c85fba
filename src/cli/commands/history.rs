//! `infra history`: requests and applies, read from git trailers.

use std::path::Path;

use crate::cli::args::HistoryArgs;
use crate::error::Result;
use crate::git::Repo;

pub fn run(cwd: &Path, args: HistoryArgs) -> Result<i32> {
    let root = super::root(cwd)?;
    let repo = Repo::open(&root)?;
    let entries = repo.history(args.limit)?;
    if args.json {
        let list: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                let trailers: serde_json::Map<String, serde_json::Value> =
                    e.trailers.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect();
                serde_json::json!({ "commit": e.id, "date": e.date, "summary": e.summary, "trailers": trailers })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list).expect("json"));
        return Ok(0);
    }
    if entries.is_empty() {
        println!("No infra history yet: `infra ask` and `infra apply` record their commits here.");
        return Ok(0);
    }
    println!("{:<16}  {:<8}  {:<11}  SUMMARY", "DATE", "COMMIT", "PLAN");
    for e in entries {
        let plan = e
            .trailers
            .iter()
            .find(|(k, _)| k == "Infra-Plan")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        println!(
            "{:<16}  {:<8}  {:<11}  {}",
            e.date, e.short, plan, e.summary
        );
    }
    Ok(0)
}
