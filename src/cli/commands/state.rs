//! `infra state list|rm`.

use std::path::Path;

use super::shared_state::{publish, share};
use crate::apply::lock::Lock;
use crate::cli::args::StateCommand;
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::git::{self, Repo};
use crate::report::{self, Output, StateList};
use crate::state;

pub fn run(cwd: &Path, cmd: StateCommand, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    match cmd {
        StateCommand::List { json } => {
            let list = StateList::new(&state::load(&root)?.state);
            report::emit(&list, if json { Output::Json } else { Output::Human }, ui);
            Ok(0)
        }
        StateCommand::Rm {
            addresses,
            no_commit,
        } => {
            let repo = if no_commit {
                None
            } else {
                Some(Repo::open(&root)?)
            };
            if let Some(r) = &repo {
                r.current_branch()?;
            }
            let _lock = Lock::acquire(&root, "infra state rm")?;
            let (spec, _) = crate::spec::load::load(&root)?;
            let mut shared = share(repo.as_ref(), &spec.state, false, "infra state rm")?;
            let loaded = state::load(&root)?;
            let mut next = loaded.state.clone();
            for a in &addresses {
                if next.resources.remove(a).is_none() {
                    return Err(Error::new(format!("{a} is not in the recorded state"))
                        .hint("`infra state list` shows what is recorded"));
                }
            }
            next.serial = loaded.effective_serial() + 1;
            if let Some(s) = &mut shared {
                s.arm()?;
            }
            state::save(&root, &next)?;
            for a in &addresses {
                println!("Removed {a} from the state (the live object was not touched).");
            }
            if let Some(repo) = &repo {
                let msg = git::message(
                    &format!("infra state rm: {}", addresses.join(", ")),
                    Some("Forgotten without deleting the live objects."),
                    &[("Infra-Plan", "+0 ~0 -0".to_string())],
                );
                repo.commit_paths(&[state::STATE_FILE], &msg)?;
            }
            publish(shared, repo.as_ref())?;
            Ok(0)
        }
    }
}
