//! The part of one apply after the plan is made: record what the refresh found
//! (adoptions, drift, out-of-band deletions) in the journal, run the plan, and
//! save the state. The CLI around it only confirms, renders and commits.

use std::collections::BTreeMap;
use std::sync::Arc;

use infra_core::error::{Error, Result};
use infra_core::spec::Attrs;
use infra_core::state::journal::{Entry, Journal};
use infra_core::state::{self, ResourceState, State};
use infra_kit::Provider;
use infra_plan::{DesiredInput, LiveObject, Plan, ResourceChange};

use crate::apply::{execute, ExecOptions, Outcome, Reporter, Work};
use crate::project::{Planned, Project};

/// An apply ready to go ahead: the journal entries of the refresh, and what the
/// state held at every address it may change.
pub struct Apply {
    entries: Vec<Entry>,
    before: Before,
}

/// What an apply did.
#[derive(Debug)]
pub struct ApplyReport {
    pub outcome: Outcome,
    /// Whether the state file was written (something was done, or the refresh moved it).
    pub state_changed: bool,
}

impl Apply {
    /// After `project.plan_with_live`: nothing is written yet.
    pub fn prepare(project: &Project, planned: &Planned, refreshed: bool) -> Apply {
        let entries = if refreshed {
            refresh_entries(&project.state.state, &planned.live, &planned.plan)
        } else {
            Vec::new()
        };
        let before = Before::new(&project.state, &planned.plan, &entries);
        Apply { entries, before }
    }

    /// No changes to make: record what the refresh found. Returns whether the
    /// state file changed.
    pub fn record_refresh(self, project: &mut Project) -> Result<bool> {
        let (mut recorded, _, before) = self.journal_refresh(project)?;
        save_state(&project.root, &before, &mut recorded)
    }

    /// Record the refresh, run `plan` (creating and updating `desired`), save the state.
    pub async fn run(
        self,
        project: &mut Project,
        plan: &Plan,
        desired: &[DesiredInput],
        providers: &BTreeMap<String, Arc<dyn Provider>>,
        reporter: Arc<dyn Reporter>,
        parallelism: usize,
    ) -> Result<ApplyReport> {
        let (recorded, journal, before) = self.journal_refresh(project)?;
        let opts = ExecOptions {
            parallelism,
            retry: project.retry_policies(),
        };
        let work = Work {
            plan,
            desired,
            vars: &project.spec.vars,
            providers,
        };
        let (outcome, mut now) = execute(work, recorded, journal, reporter, &opts).await;
        let state_changed = save_state(&project.root, &before, &mut now)?;
        Ok(ApplyReport {
            outcome,
            state_changed,
        })
    }

    /// Journal the refresh (one write, one sync) and move the state on past it.
    fn journal_refresh(self, project: &mut Project) -> Result<(State, Journal, Before)> {
        let mut journal = Journal::open(&project.root.join(state::JOURNAL_FILE))?;
        journal
            .append_all(&self.entries)
            .map_err(|e| Error::new(format!("cannot write the state journal: {e}")))?;
        let mut recorded = std::mem::take(&mut project.state.state);
        for e in self.entries {
            e.apply_to(&mut recorded);
        }
        Ok((recorded, journal, self.before))
    }
}

/// What the state held before this apply: its serial, lineage and replayed
/// journal, and the resource at every address the apply may change (refreshed
/// ones and planned actions). The end tells from it whether anything changed,
/// without a copy of the whole state.
struct Before {
    serial: u64,
    lineage: String,
    replayed: usize,
    resources: BTreeMap<String, Option<ResourceState>>,
}

impl Before {
    fn new(loaded: &state::Loaded, plan: &Plan, entries: &[Entry]) -> Before {
        let addresses = plan
            .actions()
            .chain(plan.marks())
            .map(|c| c.address.as_str())
            .chain(entries.iter().map(Entry::address));
        Before {
            serial: loaded.state.serial,
            lineage: loaded.state.lineage.clone(),
            replayed: loaded.replayed,
            resources: addresses
                .map(|a| (a.to_string(), loaded.state.resources.get(a).cloned()))
                .collect(),
        }
    }

    /// Whether `now` differs from the state file (a replayed journal counts).
    fn changed(&self, now: &State) -> bool {
        self.replayed > 0
            || self
                .resources
                .iter()
                .any(|(a, r)| now.resources.get(a) != r.as_ref())
    }
}

/// The journal entries that bring the recorded state in line with what refresh
/// saw (adoptions, drift, out-of-band deletions).
fn refresh_entries(
    recorded: &State,
    live: &BTreeMap<String, LiveObject>,
    plan: &Plan,
) -> Vec<Entry> {
    let changes: BTreeMap<&str, &ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();
    let mut entries = Vec::new();
    for (address, l) in live {
        let old = recorded.resources.get(address);
        // Unchanged objects (the usual case) are compared in place, not rebuilt.
        if old.is_some_and(|o| {
            o.kind == l.kind && o.provider == l.provider && o.id == l.id && o.attrs == *l.attrs
        }) {
            continue;
        }
        let change = changes.get(address.as_str());
        let resource = ResourceState {
            kind: l.kind.clone(),
            provider: l.provider.clone(),
            id: l.id.clone(),
            attrs: Attrs::clone(&l.attrs),
            depends_on: old
                .map(|o| o.depends_on.clone())
                .or_else(|| change.map(|c| c.depends_on.clone()))
                .unwrap_or_default(),
            group: old
                .and_then(|o| o.group.clone())
                .or_else(|| change.and_then(|c| c.group.clone())),
            settings: old.and_then(|o| o.settings.clone()),
            unmarked: false,
        };
        if old != Some(&resource) {
            entries.push(Entry::Put {
                address: address.clone(),
                resource,
            });
        }
    }
    for address in recorded.resources.keys().filter(|a| !live.contains_key(*a)) {
        entries.push(Entry::Remove {
            address: address.clone(),
        });
    }
    entries
}

/// Write the state if it differs from the file on disk (a replayed journal counts);
/// returns whether it did. Without changes the journal is simply dropped.
fn save_state(root: &std::path::Path, before: &Before, now: &mut State) -> Result<bool> {
    if !before.changed(now) {
        match fs_err::remove_file(root.join(state::JOURNAL_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => return Ok(false),
        }
    }
    now.serial = before.serial + before.replayed as u64 + 1;
    now.lineage = before.lineage.clone();
    state::save(root, now)?;
    Ok(true)
}

/// Before an apply's refresh, under the project lock: each provider removes what a
/// killed apply left (temp files of interrupted writes). Returns `provider: name`
/// lines of what went; a provider that cannot tidy is left for the refresh to judge.
pub async fn tidy(providers: &BTreeMap<String, Arc<dyn Provider>>) -> Vec<String> {
    let mut removed = Vec::new();
    for (name, p) in providers {
        if let Ok(gone) = p.tidy().await {
            removed.extend(gone.into_iter().map(|g| format!("{name}: {g}")));
        }
    }
    removed
}
