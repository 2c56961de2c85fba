//! `infra force-unlock [ID]`: clear what a lock left behind. The lock is an OS
//! file lock that dies with its process, so after a crash the next apply simply
//! takes it over; this command only clears the details a dead holder left in the
//! file, and never touches a lock a running process holds.

use std::path::Path;

use crate::apply::lock;
use crate::error::{Error, Result};

pub fn run(cwd: &Path, args: crate::cli::args::ForceUnlockArgs) -> Result<i32> {
    let root = super::root(cwd)?;
    if let Some(info) = lock::holder(&root)? {
        return Err(Error::new(format!(
            "the lock is held by a running process: {} (pid {} on {})",
            info.operation, info.pid, info.host
        ))
        .hint("wait for it to finish; infra never takes a lock from a running process"));
    }
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
    fs_err::write(root.join(lock::LOCK_FILE), "")?;
    println!(
        "Cleared the lock left by {} (pid {}, started {}); no process held it.",
        info.operation, info.pid, info.created
    );
    Ok(0)
}
