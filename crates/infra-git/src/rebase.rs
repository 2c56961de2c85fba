//! Putting local commits on top of a remote branch that moved on: what an apply
//! does when commits arrived on the shared branch while it ran. Unrelated commits
//! (a merged spec change, a README edit) are rebased over; a commit that changed
//! a guarded path (the state) never is, because two states cannot be merged.

use git2::{Oid, Sort};

use infra_core::error::{Error, Result};

use super::identity::Role;
use super::{git, Repo};

/// Where the shared branch stands against ours.
#[derive(Debug, PartialEq, Eq)]
pub enum Standing {
    /// The remote's tip is in our history: nothing to take in.
    UpToDate,
    /// The remote has commits we lack, none touching the guarded paths.
    Unrelated,
    /// The remote has commits we lack that change a guarded path; the first one.
    Guarded(String),
}

impl Repo {
    /// Compare HEAD with `upstream` (a commit already fetched) for `guarded`
    /// project paths.
    pub fn standing(&self, upstream: &str, guarded: &[&str]) -> Result<Standing> {
        let up = oid(upstream)?;
        let Some(head) = self.head_commit()? else {
            return Ok(Standing::Guarded(upstream.to_string()));
        };
        if head.id() == up
            || self
                .repo
                .graph_descendant_of(head.id(), up)
                .map_err(git("comparing with the remote"))?
        {
            return Ok(Standing::UpToDate);
        }
        let guarded = self.specs(guarded)?;
        for id in self.only_in(up, head.id())? {
            let commit = self.repo.find_commit(id).map_err(git("reading a commit"))?;
            if self.touches(&commit, &guarded)? {
                return Ok(Standing::Guarded(id.to_string()));
            }
        }
        Ok(Standing::Unrelated)
    }

    /// Replay the commits HEAD has and `upstream` lacks onto `upstream`, in
    /// memory; the new tip. The branch and work tree are not moved (see `advance`),
    /// so nothing local changes unless the result is published.
    pub fn rebase_onto(&self, upstream: &str, guarded: &[&str]) -> Result<String> {
        if let Standing::Guarded(id) = self.standing(upstream, guarded)? {
            return Err(Error::new(format!(
                "the remote's branch has a commit ({}) that changed the state",
                &id[..id.len().min(12)]
            ))
            .hint("someone recorded a state without infra's lock; run `git pull --rebase`, then `infra plan`"));
        }
        let head = self
            .head_commit()?
            .ok_or_else(|| Error::new("there is no commit to rebase"))?;
        let mut tip = self
            .repo
            .find_commit(oid(upstream)?)
            .map_err(git("reading the remote's tip"))?;
        let committer = self.signature(Role::Committer)?;
        for id in self.only_in(head.id(), tip.id())? {
            let commit = self.repo.find_commit(id).map_err(git("reading a commit"))?;
            if commit.parent_count() > 1 {
                return Err(Error::new(format!(
                    "cannot rebase the merge commit {} onto the remote's branch",
                    &id.to_string()[..12]
                ))
                .hint("rebase by hand (`git pull --rebase`), then push"));
            }
            let mut index = self
                .repo
                .cherrypick_commit(&commit, &tip, 0, None)
                .map_err(git("rebasing onto the remote's branch"))?;
            if index.has_conflicts() {
                return Err(Error::new(format!(
                    "commit {} conflicts with the remote's branch",
                    &id.to_string()[..12]
                ))
                .hint("rebase by hand (`git pull --rebase`), then push"));
            }
            let tree_id = index
                .write_tree_to(&self.repo)
                .map_err(git("writing a rebased tree"))?;
            let tree = self
                .repo
                .find_tree(tree_id)
                .map_err(git("reading a tree"))?;
            let new = self
                .repo
                .commit(
                    None,
                    &commit.author(),
                    &committer,
                    commit.message().unwrap_or_default(),
                    &tree,
                    &[&tip],
                )
                .map_err(git("writing a rebased commit"))?;
            tip = self
                .repo
                .find_commit(new)
                .map_err(git("reading a commit"))?;
        }
        Ok(tip.id().to_string())
    }

    /// Move the current branch from HEAD to `to` (a descendant of a commit the
    /// work tree reflects), updating the files that differ. A file with local
    /// changes that `to` also changes stops it before anything moves.
    pub fn advance(&self, to: &str) -> Result<()> {
        let branch = self.current_branch()?;
        let head = self.head_commit()?;
        let target = self
            .repo
            .find_commit(oid(to)?)
            .map_err(git("reading the new tip"))?;
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.safe();
        self.repo
            .checkout_tree(target.as_object(), Some(&mut checkout))
            .map_err(|e| {
                Error::new(format!("cannot update the work tree to {}: {}", &to[..12], e.message()))
                    .hint("the remote has the new commits; commit or stash your changes and run `git pull --rebase`")
            })?;
        let refname = format!("refs/heads/{branch}");
        let reflog = "infra: take in the remote's branch";
        match head {
            Some(h) => self
                .repo
                .reference_matching(&refname, target.id(), true, h.id(), reflog)
                .map(drop),
            None => self
                .repo
                .reference(&refname, target.id(), false, reflog)
                .map(drop),
        }
        .map_err(git(format!("moving {branch}")))
    }

    /// Commits reachable from `from` and not from `not`, oldest first.
    fn only_in(&self, from: Oid, not: Oid) -> Result<Vec<Oid>> {
        let mut walk = self.repo.revwalk().map_err(git("walking history"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(git("walking history"))?;
        walk.push(from).map_err(git("walking history"))?;
        walk.hide(not).map_err(git("walking history"))?;
        walk.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(git("walking history"))
    }

    /// Whether `commit` changed anything at or under the `specs` repository paths.
    fn touches(&self, commit: &git2::Commit<'_>, specs: &[String]) -> Result<bool> {
        let tree = commit.tree().map_err(git("reading a tree"))?;
        let parent = match commit.parent(0) {
            Ok(p) => Some(p.tree().map_err(git("reading a tree"))?),
            Err(_) => None,
        };
        let entry = |t: Option<&git2::Tree<'_>>, path: &str| -> Option<Oid> {
            t.and_then(|t| t.get_path(std::path::Path::new(path)).ok())
                .map(|e| e.id())
        };
        Ok(specs
            .iter()
            .any(|s| entry(Some(&tree), s) != entry(parent.as_ref(), s)))
    }
}

fn oid(sha: &str) -> Result<Oid> {
    Oid::from_str(sha).map_err(git(format!("reading commit id {sha}")))
}
