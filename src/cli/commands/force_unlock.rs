//! `infra force-unlock [ID]`: clear a lock its holder can no longer let go of.
//! This clone's lock is an OS file lock that dies with its process, so here the
//! command only clears the details a dead holder left in the file, and never
//! touches a lock a running process holds. A shared state's remote lock
//! (`refs/infra/lock`) outlives a killed apply; it is deleted only when ID names
//! it, and only if it still names the same holder (a compare-and-swap push).

use std::path::Path;

use super::shared_state;
use crate::apply::lock;
use crate::error::{Error, Result};
use crate::git::{Pushed, Repo};

pub fn run(cwd: &Path, args: crate::cli::args::ForceUnlockArgs) -> Result<i32> {
    let root = super::root(cwd)?;
    let (spec, _) = crate::spec::load::load(&root)?;
    if let Some(name) = shared_state::remote_name(&spec.state, args.push) {
        return remote(&root, &name, args.id.as_deref());
    }
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

fn remote(root: &Path, name: &str, id: Option<&str>) -> Result<i32> {
    let repo = Repo::open(root)?;
    let remote = repo.remote(name)?;
    let Some((lock, holder)) = shared_state::holder(&remote)? else {
        println!("The project is not locked on {name}.");
        return Ok(0);
    };
    let Some(id) = id else {
        return Err(Error::new(format!(
            "the project is locked on {name}: {}",
            holder.describe()
        ))
        .hint(format!(
            "if that apply is no longer running, confirm with its id: `infra force-unlock {}`",
            holder.id
        )));
    };
    if id != holder.id {
        return Err(
            Error::new(format!("the lock on {name} has id {}, not {id}", holder.id))
                .detail(format!("held by {}", holder.describe()))
                .hint("check `infra lock status`: the lock may have changed hands"),
        );
    }
    match remote.release_lock(&lock.sha)? {
        Pushed::Done => {
            println!("Removed the lock on {name} held by {}.", holder.describe());
            Ok(0)
        }
        Pushed::Rejected(_) => Err(Error::new(format!(
            "the lock on {name} changed while it was being removed"
        ))
        .hint("check `infra lock status` and try again")),
    }
}
