//! The plan as data. Renderers format it; apply executes it; nothing here computes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use infra_core::spec::Attrs;

/// Attributes shared (not copied) between a live object and the change planned
/// for it: a plan over 10,000 unchanged resources otherwise holds each live
/// object's attributes three times. Serialised exactly like `Attrs`.
pub type SharedAttrs = Arc<Attrs>;

/// Saved-plan and JSON format version: minor bumps only add fields.
pub const FORMAT_VERSION: &str = "1.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Delete, then create (an attribute that cannot change in place changed).
    Replace,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
}

/// Why a change is planned; for people, never used for decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    /// Delete: the resource is no longer in the spec.
    NotInSpec,
    /// Delete: `infra destroy`.
    Destroy,
    /// Create: the object was deleted outside infra.
    DeletedOutOfBand,
    /// The object was found live by its ownership marker but missing from state.
    Adopted,
    /// Replace: asked for with `--replace`, though nothing forces it.
    ReplaceRequested,
    /// Update: a certificate inside its renew-before window is issued again.
    Renew { expires_in_days: i64 },
    /// Adopted by `infra adopt`: apply writes infra's ownership marker into the
    /// object (nothing else about it changes unless another reason says so).
    Mark,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    pub kind: String,
    /// Provider instance name.
    pub provider: String,
    pub action: Action,
    /// Provider id of the live object, if one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub before: Option<SharedAttrs>,
    pub after: Option<SharedAttrs>,
    /// Attributes of `after` only known after apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_unknown: Vec<String>,
    /// Attributes whose values are never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Attributes whose change forces replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// Attributes changed in place that take effect only when the object restarts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restart_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// Create: an object infra does not manage already has this one's name (a DNS
    /// record of the same name and type); its id, for `infra import`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beside: Option<String>,
    /// Addresses this resource depends on (references and depends_on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl ResourceChange {
    /// Attribute names whose value differs between before and after (unknowns count as changed).
    pub fn changed_attrs(&self) -> Vec<String> {
        let (Some(before), Some(after)) = (&self.before, &self.after) else {
            return Vec::new();
        };
        let mut names: Vec<String> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .chain(
                self.after_unknown
                    .iter()
                    .filter(|k| before.contains_key(*k))
                    .cloned(),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// An object that changed outside infra since the last recorded state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: String,
    /// Recorded attributes (None: the object was not recorded, e.g. adopted).
    pub before: Option<Attrs>,
    /// Live attributes (None: deleted outside infra).
    pub after: Option<Attrs>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub infra_version: String,
    /// Every resource in spec or state, in apply order; NoOp entries included.
    pub changes: Vec<ResourceChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// Hash of the spec files the plan was made from.
    pub spec_digest: String,
    /// Commit of the spec, when the spec was clean in git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_commit: Option<String>,
    pub state_lineage: String,
    pub state_serial: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Addresses replaced on request (`--replace`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<String>,
    #[serde(default)]
    pub destroy: bool,
    /// Whether live state was read (false with --refresh=false).
    pub refreshed: bool,
}

impl Plan {
    /// The approval unit: a hash of what the plan does (its changes, with the
    /// markers it writes, and the drift it saw), the spec tree it was made from
    /// and the state it was made against. A reviewed digest applies only if a
    /// fresh plan has the same one (`infra apply --expect-digest`). The infra
    /// version, and whether live objects were read, are left out.
    pub fn digest(&self) -> String {
        let view = serde_json::json!({
            "changes": self.changes,
            "drift": self.drift,
            "spec_digest": self.spec_digest,
            "state_lineage": self.state_lineage,
            "state_serial": self.state_serial,
            "targets": self.targets,
            "replace": self.replace,
            "destroy": self.destroy,
        });
        let bytes = serde_json::to_vec(&view).expect("a plan serialises");
        infra_core::util::sha256_hex(&bytes)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1
                }
                Action::Delete => s.destroy += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Anything for apply to do: changes, or ownership markers to write.
    pub fn has_work(&self) -> bool {
        self.has_changes() || self.marks().next().is_some()
    }

    /// Changes that do something (NoOps left out).
    pub fn actions(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes.iter().filter(|c| c.action != Action::NoOp)
    }

    /// Adopted objects whose ownership marker apply writes, with or without other changes.
    pub fn marks(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes
            .iter()
            .filter(|c| c.reasons.contains(&Reason::Mark))
    }

    /// Objects found by marker and not yet recorded: apply records them even without changes.
    pub fn adoptions(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes
            .iter()
            .filter(|c| c.reasons.contains(&Reason::Adopted))
    }
}
