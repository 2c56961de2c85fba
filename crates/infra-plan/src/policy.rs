//! `[policy]` checks on a computed plan: protected addresses and a cap on deletions.

use super::model::{Action, Plan};
use infra_core::spec::Policy;

/// Every way the plan breaks the policy, as messages; empty when it complies.
pub fn violations(plan: &Plan, policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for c in plan.actions() {
        if matches!(c.action, Action::Delete | Action::Replace)
            && policy.protect.contains(&c.address)
        {
            let verb = if c.action == Action::Delete {
                "delete"
            } else {
                "replace"
            };
            out.push(format!(
                "the plan would {verb} {}, which [policy] protect lists",
                c.address
            ));
        }
    }
    if let Some(max) = policy.max_destroy {
        let n = plan.summary().destroy as u64;
        if n > max {
            out.push(format!(
                "the plan would destroy {n} objects; [policy] max_destroy allows {max}"
            ));
        }
    }
    out
}
