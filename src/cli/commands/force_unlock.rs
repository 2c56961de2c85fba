//! `infra force-unlock [ID]`: remove the apply lock after a crash.

use std::path::Path;

use crate::apply::lock;
use crate::error::{Error, Result};

pub fn run(cwd: &Path, args: crate::cli::args::ForceUnlockArgs) -> Result<i32> {
    let root = super::root(cwd)?;
    let Some(info) = lock::read(&root)? else {
        println!("The project is not locked.");
        return Ok(0);
    };
    if let Some(id) = &args.id {
        if *id != info.id {
            return Err(
                Error::new(format!("the lock's id is {}, not {id}", info.id))
                    .hint("copy the id from the lock error"),
            );
        }
    }
    if !lock::is_stale(&info) {
        return Err(Error::new(format!(
            "the lock is held by a running process: {} (pid {} on {})",
            info.operation, info.pid, info.host
        ))
        .hint("wait for it to finish; infra only removes locks whose process is gone"));
    }
    fs_err::remove_file(root.join(lock::LOCK_FILE))?;
    println!(
        "Removed the stale lock of {} (pid {}, started {}).",
        info.operation, info.pid, info.created
    );
    Ok(0)
}
