//! `[state] remote`: a team's state, shared through a git remote. An apply takes
//! the remote's lock (`refs/infra/lock`, an atomic compare-and-swap push), fetches
//! the branch and refuses to run on a state older than the remote's, applies,
//! then pushes its state commit, rebasing over unrelated commits that arrived
//! meanwhile and never over another state commit, and lets go of the lock. A
//! state that could not be pushed keeps the lock held, so nobody applies against
//! the state it replaced.

use serde::{Deserialize, Serialize};

use crate::apply::lock;
use crate::error::{Error, Result};
use crate::git::{Pushed, Remote, RemoteLock, Repo, Standing};
use crate::spec::{StateSettings, DEFAULT_LOCK_STALE_AFTER};
use crate::state::STATE_FILE;

/// How many times a push may find the branch moved on before the apply gives up.
const PUSH_ATTEMPTS: usize = 5;

/// The first line of a lock commit's message; the details follow as JSON.
const LOCK_SUBJECT: &str = "infra lock";

/// Who holds a remote lock, as its commit message records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub id: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    pub operation: String,
    /// The branch and, in CI, the job that holds it.
    #[serde(rename = "where")]
    pub place: String,
    pub created: String,
}

impl Holder {
    fn parse(lock: &RemoteLock) -> Holder {
        let body = lock.message.split_once('\n').map_or("", |(_, b)| b).trim();
        serde_json::from_str(body).unwrap_or_else(|_| Holder {
            id: lock.sha.chars().take(12).collect(),
            who: "unknown".into(),
            host: "unknown".into(),
            pid: 0,
            operation: "an unknown command".into(),
            place: String::new(),
            created: "unknown".into(),
        })
    }

    /// Seconds the lock has been held, when its creation time reads.
    pub fn age(&self) -> Option<i64> {
        crate::time::parse_utc(&self.created).map(|t| crate::util::unix_now() - t)
    }

    /// "infra apply by Alice <a@x> (pid 7 on ci-4, main) since …"
    pub fn describe(&self) -> String {
        let place = if self.place.is_empty() {
            String::new()
        } else {
            format!(", {}", self.place)
        };
        format!(
            "{} by {} (pid {} on {}{place}) since {}",
            self.operation, self.who, self.pid, self.host, self.created
        )
    }

    pub fn stale(&self, settings: &StateSettings) -> bool {
        let limit = settings
            .lock_stale_after
            .unwrap_or(DEFAULT_LOCK_STALE_AFTER);
        self.age().is_some_and(|a| a > limit as i64)
    }
}

/// The remote a run shares its state through: the setting, or `origin` for `--push`.
pub fn remote_name(settings: &StateSettings, push: bool) -> Option<String> {
    settings
        .remote
        .clone()
        .or_else(|| push.then(|| "origin".to_string()))
}

/// Take the remote lock when the state is shared (`[state] remote`, or `--push`
/// for one run); None when it is not.
pub fn share<'r>(
    repo: Option<&'r Repo>,
    settings: &StateSettings,
    push: bool,
    operation: &str,
) -> Result<Option<Shared<'r>>> {
    let Some(name) = remote_name(settings, push) else {
        return Ok(None);
    };
    let repo = repo.ok_or_else(|| {
        Error::new("--no-commit cannot be used with a shared state").hint(
            "the state is shared as a commit on the remote ([state] remote); drop --no-commit",
        )
    })?;
    Shared::begin(repo, &name, operation, settings).map(Some)
}

/// Push the state commit and let go of the remote lock.
pub fn publish(shared: Option<Shared<'_>>, repo: Option<&Repo>) -> Result<()> {
    match (shared, repo) {
        (Some(s), Some(r)) => s.publish(r),
        _ => Ok(()),
    }
}

/// With a shared state, whether the remote's branch holds a newer state than
/// this clone (a plan made here would be against an old one). Fetches; says
/// nothing when it cannot tell (no remote reachable, no commits yet).
pub fn behind(root: &std::path::Path, settings: &StateSettings) -> Option<String> {
    let name = settings.remote.as_deref()?;
    let repo = Repo::open(root).ok()?;
    let remote = repo.remote(name).ok()?;
    let up = remote.fetch().ok()??;
    match repo.standing(&up, &[STATE_FILE]).ok()? {
        Standing::Guarded(id) => Some(format!(
            "the state on {name}/{} is newer than this clone's (commit {}): this plan is made against an older state; run `git pull --rebase`",
            remote.branch,
            short(&id)
        )),
        _ => None,
    }
}

/// The remote lock, held for the length of one command.
pub struct Shared<'r> {
    remote: Remote<'r>,
    /// The lock commit on the remote, and the id its details give.
    lock: String,
    id: String,
    /// The branch's tip on the remote when the lock was taken.
    upstream: Option<String>,
    /// Live changes may have begun: from here on only a published state lets
    /// the lock go, so nobody applies against the state this run replaces.
    armed: bool,
    /// The lock was let go (or handed back on purpose): nothing left for drop.
    done: bool,
}

impl<'r> Shared<'r> {
    /// Take the remote's lock and check this clone's state is the remote's newest.
    pub fn begin(
        repo: &'r Repo,
        name: &str,
        operation: &str,
        settings: &StateSettings,
    ) -> Result<Shared<'r>> {
        let remote = repo.remote(name)?;
        let shared_branch = shared_branch(repo, &remote, settings);
        if remote.branch != shared_branch {
            return Err(Error::new(format!(
                "the shared state is recorded on {name}/{shared_branch}, and this clone is on `{}`",
                remote.branch
            ))
            .hint(format!(
                "apply from {shared_branch} (`git switch {shared_branch}`), or set `branch` under [state]"
            )));
        }
        let holder = Holder {
            id: lock::new_id(),
            who: repo.who(),
            host: lock::hostname(),
            pid: std::process::id(),
            operation: operation.to_string(),
            place: place(&remote.branch),
            created: lock::now_utc(),
        };
        let message = format!(
            "{LOCK_SUBJECT}\n\n{}\n",
            serde_json::to_string_pretty(&holder).expect("lock details serialise")
        );
        // A lock let go between our push and our read is simply tried again.
        let mut taken = None;
        for _ in 0..3 {
            match remote.take_lock(&message)? {
                Ok(sha) => {
                    taken = Some(sha);
                    break;
                }
                Err(held) if held.sha.is_empty() => continue,
                Err(held) => return Err(held_error(&remote, &Holder::parse(&held), settings)),
            }
        }
        let lock = taken.ok_or_else(|| {
            Error::new(format!(
                "could not take the lock on {name}: it changed hands three times"
            ))
            .hint("try again")
        })?;
        crate::util::kill_point("remote-lock-taken");
        let mut shared = Shared {
            remote,
            lock,
            id: holder.id.clone(),
            upstream: None,
            armed: false,
            done: false,
        };
        shared.upstream = shared.remote.fetch()?;
        if let Some(up) = &shared.upstream {
            if let Standing::Guarded(id) = repo.standing(up, &[STATE_FILE])? {
                return Err(Error::new(format!(
                    "the state on {name}/{} is newer than this clone's (commit {})",
                    shared.remote.branch,
                    short(&id)
                ))
                .hint("run `git pull --rebase`, then `infra plan` again"));
            }
        }
        Ok(shared)
    }

    /// Live changes are about to begin: check the lock is still ours (a person
    /// may have forced it open while a confirmation waited), then hold it until
    /// the state is published, whatever happens.
    pub fn arm(&mut self) -> Result<()> {
        self.still_ours()?;
        self.armed = true;
        Ok(())
    }

    fn still_ours(&self) -> Result<()> {
        match self.remote.read_lock()? {
            Some(l) if l.sha == self.lock => Ok(()),
            Some(l) => Err(Error::new(format!(
                "the lock on {} is no longer this run's: {}",
                self.remote.name,
                Holder::parse(&l).describe()
            ))
            .hint("someone forced it open; nothing was changed by this run")),
            None => Err(Error::new(format!(
                "the lock on {} was removed while this run held it",
                self.remote.name
            ))
            .hint("someone forced it open; nothing was changed by this run")),
        }
    }

    /// Push HEAD (the spec applied and the state recorded) to the shared branch,
    /// over commits that arrived meanwhile, then let go of the lock.
    pub fn publish(mut self, repo: &Repo) -> Result<()> {
        match self.push_state(repo) {
            Ok(()) => {
                self.release();
                Ok(())
            }
            Err(e) => Err(self.keep(repo, e)),
        }
    }

    fn push_state(&self, repo: &Repo) -> Result<()> {
        let Some(head) = repo.head()? else {
            return Ok(());
        };
        let mut upstream = self.upstream.clone();
        for attempt in 0..PUSH_ATTEMPTS {
            if attempt > 0 {
                upstream = self.remote.fetch()?;
            }
            let tip = match &upstream {
                Some(up) => match repo.standing(up, &[STATE_FILE])? {
                    Standing::UpToDate => head.clone(),
                    Standing::Unrelated => repo.rebase_onto(up, &[STATE_FILE])?,
                    Standing::Guarded(id) => {
                        return Err(Error::new(format!(
                        "someone pushed a state to {}/{} (commit {}) while this run held the lock",
                        self.remote.name,
                        self.remote.branch,
                        short(&id)
                    )))
                    }
                },
                None => head.clone(),
            };
            self.still_ours()?;
            match self.remote.push_branch(&tip)? {
                Pushed::Rejected(_) => continue,
                Pushed::Done => {
                    if tip != head {
                        if let Err(e) = repo.advance(&tip) {
                            eprintln!("warning: {}", e.message);
                        }
                    }
                    return Ok(());
                }
            }
        }
        Err(Error::new(format!(
            "{}/{} kept moving: the state commit was not pushed after {PUSH_ATTEMPTS} tries",
            self.remote.name, self.remote.branch
        )))
    }

    fn release(&mut self) {
        self.done = true;
        match self.remote.release_lock(&self.lock) {
            Ok(Pushed::Done) => {}
            Ok(Pushed::Rejected(_)) => eprintln!(
                "warning: the lock on {} was no longer this run's (someone forced it open)",
                self.remote.name
            ),
            Err(e) => eprintln!(
                "warning: could not let go of the lock on {}: {}; run `infra force-unlock {}` once you can reach it",
                self.remote.name, e.message, self.id
            ),
        }
    }

    /// The state is committed here but not on the remote's branch: the lock
    /// stays, so no one applies against the state this one replaced, and the
    /// commit is saved on the remote beside the lock when the remote takes it
    /// (a CI job's clone is gone once the job ends).
    fn keep(&mut self, repo: &Repo, e: Error) -> Error {
        if !self.armed {
            return e;
        }
        self.done = true;
        let saved = repo
            .head()
            .ok()
            .flatten()
            .and_then(|head| self.remote.save_pending(&head, &self.id).ok());
        let saved = match saved {
            Some(r) => format!(" It is saved on {} as {r}.", self.remote.name),
            None => String::new(),
        };
        e.hint(format!(
            "the state is committed in this clone, not on {name}/{branch}, and the lock on {name} stays held.{saved} Push it to {branch} (`git pull --rebase && git push`), then run `infra force-unlock {id}`",
            name = self.remote.name,
            branch = self.remote.branch,
            id = self.id
        ))
    }
}

impl Drop for Shared<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.armed {
            // An error after live changes began, before the state was committed
            // or pushed: the lock must outlive this run.
            eprintln!(
                "warning: the lock on {} stays held: this run changed live objects and did not publish its state; when the state is pushed, run `infra force-unlock {}`",
                self.remote.name, self.id
            );
            return;
        }
        self.release();
    }
}

/// The branch the team's state lives on: `[state] branch`, else the remote's
/// default branch as this clone last saw it, else the current one.
fn shared_branch(repo: &Repo, remote: &Remote<'_>, settings: &StateSettings) -> String {
    settings
        .branch
        .clone()
        .or_else(|| repo.remote_default_branch(&remote.name))
        .unwrap_or_else(|| remote.branch.clone())
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// What a loser is told: who holds the lock, and whether it looks abandoned.
fn held_error(remote: &Remote<'_>, holder: &Holder, settings: &StateSettings) -> Error {
    let e = Error::new(format!(
        "the project is locked on {}: {}",
        remote.name,
        holder.describe()
    ));
    if holder.stale(settings) {
        e.hint(format!(
            "the lock is older than {} and probably stale; if no apply is running there, run `infra force-unlock {}`",
            stale_limit(settings),
            holder.id
        ))
    } else {
        e.hint("wait for it to finish; `infra lock status` shows the lock")
    }
}

pub fn stale_limit(settings: &StateSettings) -> String {
    let secs = settings
        .lock_stale_after
        .unwrap_or(DEFAULT_LOCK_STALE_AFTER);
    duration(secs)
}

/// 90 → "1m 30s", 7200 → "2h", 90000 → "1d 1h".
pub fn duration(secs: u64) -> String {
    let parts = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut out = Vec::new();
    let mut left = secs;
    for (size, unit) in parts {
        if left >= size && out.len() < 2 {
            out.push(format!("{}{unit}", left / size));
            left %= size;
        } else if !out.is_empty() {
            break;
        }
    }
    if out.is_empty() {
        "0s".into()
    } else {
        out.join(" ")
    }
}

/// The remote lock's holder, if any.
pub fn holder(remote: &Remote<'_>) -> Result<Option<(RemoteLock, Holder)>> {
    Ok(remote.read_lock()?.map(|l| {
        let h = Holder::parse(&l);
        (l, h)
    }))
}

/// The branch, and in CI the job (so a stale lock can be traced to its run).
fn place(branch: &str) -> String {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let job = match (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
        _ => var("CI_JOB_URL"),
    };
    match job {
        Some(j) => format!("branch {branch}, {j}"),
        None => format!("branch {branch}"),
    }
}
