//! A new object beside one infra does not manage: a DNS record of the same name
//! and type (the name silently becomes round-robin), a file at the same path
//! (the create would be refused). The plan marks such a create with the
//! unmanaged object's id, and the renderers show a warning with the `infra
//! import` that would adopt it instead.

use infra_core::spec::schema;
use infra_core::spec::{Attrs, Value};

use crate::{Action, Plan};

/// An object a refresh saw that carries no marker of this project.
#[derive(Debug, Clone)]
pub struct Unmanaged {
    pub provider: String,
    pub kind: String,
    pub id: String,
    pub attrs: Attrs,
}

/// Set `beside` on every create whose name an unmanaged object already has.
pub fn mark(plan: &mut Plan, unmanaged: &[Unmanaged]) {
    for c in plan
        .changes
        .iter_mut()
        .filter(|c| c.action == Action::Create)
    {
        let Some(kind) = schema::kind(&c.kind) else {
            continue;
        };
        let Some(after) = &c.after else { continue };
        if kind.same_name.is_empty() {
            continue;
        }
        let found = unmanaged.iter().find(|u| {
            u.provider == c.provider
                && u.kind == c.kind
                && kind
                    .same_name
                    .iter()
                    .all(|a| same(after.get(*a), u.attrs.get(*a)))
        });
        c.beside = found.map(|u| u.id.clone());
    }
}

/// Names compare without case or a trailing dot (DNS), other values exactly.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => x
            .trim_end_matches('.')
            .eq_ignore_ascii_case(y.trim_end_matches('.')),
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
