//! `infra lock status`: who holds this clone's lock and, when the state is
//! shared, the remote's; a remote lock older than `[state] lock_stale_after`
//! is reported as probably stale (never taken over).

use std::path::Path;

use serde_json::json;

use super::shared_state::{self, Holder};
use crate::apply::lock;
use crate::cli::args::{LockCommand, TextFormat};
use crate::error::Result;
use crate::git::Repo;

pub fn run(cwd: &Path, command: LockCommand) -> Result<i32> {
    let LockCommand::Status { format, push } = command;
    let root = super::root(cwd)?;
    let local = lock::holder(&root)?;
    let (spec, _) = crate::spec::load::load(&root)?;
    let settings = &spec.state;
    let remote = match shared_state::remote_name(settings, push) {
        Some(name) => {
            let repo = Repo::open(&root)?;
            let remote = repo.remote(&name)?;
            let held = shared_state::holder(&remote)?.map(|(_, h)| h);
            Some((name, remote.lock_ref.clone(), held))
        }
        None => None,
    };
    if format == TextFormat::Json {
        let remote_json = remote.as_ref().map(|(name, lock_ref, held)| {
            json!({
                "remote": name,
                "ref": lock_ref,
                "holder": held,
                "age_seconds": held.as_ref().and_then(Holder::age),
                "stale": held.as_ref().is_some_and(|h| h.stale(settings)),
            })
        });
        let out = json!({ "local": local, "remote": remote_json });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(0);
    }
    match &local {
        Some(info) => println!(
            "Local lock ({}): held by {} (pid {} on {}) since {}",
            lock::LOCK_FILE,
            info.operation,
            info.pid,
            info.host,
            info.created
        ),
        None => println!("Local lock ({}): free", lock::LOCK_FILE),
    }
    match remote {
        None => println!("Remote lock: none (the state is not shared; see [state] remote)"),
        Some((name, lock_ref, None)) => println!("Remote lock ({name} {lock_ref}): free"),
        Some((name, lock_ref, Some(h))) => {
            let age = h
                .age()
                .map(|a| format!(", {} ago", shared_state::duration(a.max(0) as u64)))
                .unwrap_or_default();
            println!(
                "Remote lock ({name} {lock_ref}): held by {}{age}",
                h.describe()
            );
            println!("  id: {}", h.id);
            if h.stale(settings) {
                println!(
                    "  Probably stale: held longer than {}. If no apply is running there, run `infra force-unlock {}`.",
                    shared_state::stale_limit(settings),
                    h.id
                );
            }
        }
    }
    Ok(0)
}
