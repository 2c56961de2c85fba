//! Terraform-style plan text: the drift section, the legend, one commented
//! `resource` block per action, and the `Plan:` summary. It follows Terraform's
//! wording and columns (symbols three characters wide) because users read plans
//! by those shapes. Layout only: it compares a change's before and after to pick
//! attribute lines and never calls a provider or recomputes a plan. Colour is
//! applied in the last step by `markup::finish`.

use super::attrs::{self, Sides};
use super::markup::{finish, Line, Tone};
use crate::plan::{Action, Drift, Plan, Reason, ResourceChange};

pub(super) const NO_CHANGES: &str = "No changes. Your infrastructure matches the configuration.";
const LEGEND: &str = "infra compared the spec with the live objects and made the following plan. \
                      Resource actions are indicated with the following symbols:";
/// Legend lines in Terraform's order; only those for actions present are printed.
const LEGEND_LINES: &[(Action, &str, &str)] = &[
    (Action::Create, "+", "create"),
    (Action::Update, "~", "update in-place"),
    (Action::Delete, "-", "destroy"),
    (
        Action::Replace,
        "-/+",
        "destroy and then create replacement",
    ),
];

pub fn render(plan: &Plan, color: bool) -> String {
    finish(&lines(plan), color)
}

/// The plan as styled lines; `markdown` formats the same lines for a diff fence.
pub(super) fn lines(plan: &Plan) -> Vec<Line> {
    let mut out = Vec::new();
    if !plan.drift.is_empty() {
        drift_section(plan, &mut out);
    }
    if !plan.has_changes() {
        out.push(Line::bold(NO_CHANGES));
        if !plan.drift.is_empty() {
            out.push(Line::plain(""));
            out.push(Line::plain(
                "The changes made outside infra do not conflict with the spec, \
                 so there is nothing to undo.",
            ));
        }
        if plan.adoptions().next().is_some() || plan.marks().next().is_some() {
            out.push(Line::plain(""));
        }
        adoption_line(plan, &mut out);
        return out;
    }

    out.push(Line::plain(LEGEND));
    for (action, symbol, text) in LEGEND_LINES {
        if plan.actions().any(|c| c.action == *action) {
            out.push(symbol_column(Line::new(), symbol).push(Tone::Plain, format!(" {text}")));
        }
    }
    out.push(Line::plain(""));
    out.push(Line::plain("infra will perform the following actions:"));
    out.push(Line::plain(""));

    // Address order reads like a listing; apply order is the executor's business.
    let mut changes: Vec<&ResourceChange> = plan.actions().collect();
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    for change in changes {
        change_block(change, &mut out);
    }

    let s = plan.summary();
    out.push(Line::bold("Plan:").push(
        Tone::Plain,
        format!(
            " {} to add, {} to change, {} to destroy.",
            s.add, s.change, s.destroy
        ),
    ));
    adoption_line(plan, &mut out);
    out
}

/// "Objects have changed outside of infra": what refresh found, before the plan.
fn drift_section(plan: &Plan, out: &mut Vec<Line>) {
    out.push(Line::bold("Objects have changed outside of infra"));
    out.push(Line::plain(""));
    out.push(Line::plain(
        "infra detected the following changes made outside of infra \
         since it last recorded state:",
    ));
    out.push(Line::plain(""));
    for drift in &plan.drift {
        drift_block(drift, out);
    }
    if plan.has_changes() {
        out.push(Line::plain(
            "Unless the spec was changed to match, the plan below may include \
             actions to undo or respond to these changes.",
        ));
        out.push(Line::plain(""));
    }
}

fn drift_block(drift: &Drift, out: &mut Vec<Line>) {
    let Some(after) = &drift.after else {
        out.push(Line::bold(format!(
            "  # {} has been deleted",
            drift.address
        )));
        out.push(Line::plain(""));
        return;
    };
    out.push(Line::bold(format!("  # {} has changed", drift.address)));
    // Drift carries no kind; addresses are `kind.name` and kinds have no dots.
    let (kind, name) = drift
        .address
        .split_once('.')
        .unwrap_or(("", &drift.address));
    let sides = Sides {
        before: drift.before.as_ref(),
        after: Some(after),
        unknown: &[],
        sensitive: &drift.sensitive,
        forces: &[],
        restarts: &[],
    };
    block("~", kind, name, &sides, out);
}

fn change_block(change: &ResourceChange, out: &mut Vec<Line>) {
    let verb = match change.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in-place",
        Action::Replace if change.reasons.contains(&Reason::ReplaceRequested) => {
            "will be replaced, as requested"
        }
        Action::Replace => "must be replaced",
        Action::Delete => "will be destroyed",
        Action::NoOp => "has no changes",
    };
    let renew = change.reasons.iter().find_map(|r| match r {
        Reason::Renew { expires_in_days } => Some(expires_in_days),
        _ => None,
    });
    let verb = match renew {
        Some(days) if change.action == Action::Update => {
            format!("will be renewed: {}", expiry_text(*days))
        }
        _ => verb.to_string(),
    };
    out.push(Line::bold(format!("  # {} {verb}", change.address)));
    // The header already says a requested replacement was requested.
    for reason in change
        .reasons
        .iter()
        .filter(|r| **r != Reason::ReplaceRequested && !matches!(r, Reason::Renew { .. }))
    {
        out.push(Line::plain(format!(
            "  # ({})",
            reason_text(reason, &change.address)
        )));
    }
    if let Some(id) = &change.beside {
        out.push(Line::new().push(Tone::Change, format!(
            "  # warning: {} already exists and is not managed by infra (id {id}); this adds another beside it",
            beside_what(change)
        )));
        out.push(Line::new().push(
            Tone::Change,
            format!(
                "  #   to manage that one instead: infra import {} {id}",
                change.address
            ),
        ));
    }
    let name = change
        .address
        .strip_prefix(&format!("{}.", change.kind))
        .unwrap_or(&change.address);
    let sides = Sides {
        before: change.before.as_deref(),
        after: change.after.as_deref(),
        unknown: &change.after_unknown,
        sensitive: &change.sensitive,
        forces: &change.replace_paths,
        restarts: &change.restart_paths,
    };
    block(change.action.symbol(), &change.kind, name, &sides, out);
}

/// What an unmanaged neighbour shares with a create: "a www A record in
/// example.com", "an object with path x.txt".
fn beside_what(change: &ResourceChange) -> String {
    let after = change.after.as_deref();
    let get = |k: &str| {
        after
            .and_then(|a| a.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string()
    };
    match change.kind.as_str() {
        "dns_record" => format!(
            "a {} {} record in {}",
            get("name"),
            get("type"),
            get("zone")
        ),
        kind => {
            let names = infra_core::spec::schema::kind(kind).map_or(&[][..], |k| k.same_name);
            let shown: Vec<String> = names.iter().map(|n| format!("{n} {}", get(n))).collect();
            format!("a {kind} with {}", shown.join(", "))
        }
    }
}

/// The explanation under a header; wording for people only (see `Reason`).
fn reason_text(reason: &Reason, address: &str) -> String {
    match reason {
        Reason::NotInSpec => format!("because {address} is not in the spec"),
        Reason::Destroy => "because of infra destroy".into(),
        Reason::DeletedOutOfBand => "because it was deleted outside infra".into(),
        Reason::Adopted => "found by its ownership marker; it will be recorded in state".into(),
        Reason::ReplaceRequested => "because of --replace".into(),
        Reason::Renew { expires_in_days } => format!("renewed: {}", expiry_text(*expires_in_days)),
        Reason::Mark => "adopted: infra's ownership marker is written first".into(),
    }
}

/// "expires in 12 days", "expires today", "expired 3 days ago".
pub fn expiry_text(days: i64) -> String {
    match days {
        0 => "expires today".into(),
        1 => "expires in 1 day".into(),
        d if d > 1 => format!("expires in {d} days"),
        -1 => "expired 1 day ago".into(),
        d => format!("expired {} days ago", -d),
    }
}

/// `{symbol} resource "kind" "name" {`, the attribute lines, `}`, a blank line.
fn block(symbol: &str, kind: &str, name: &str, sides: &Sides, out: &mut Vec<Line>) {
    out.push(
        symbol_column(Line::new(), symbol)
            .push(Tone::Plain, format!(" resource \"{kind}\" \"{name}\" {{")),
    );
    let rows = attrs::rows(sides);
    out.extend(attrs::lines(&rows.rows));
    if rows.hidden > 0 {
        out.push(attrs::hidden_line(rows.hidden));
    }
    out.push(Line::plain("    }"));
    out.push(Line::plain(""));
}

/// Symbols sit right-aligned in three columns, so `-/+` and `  +` line up.
fn symbol_column(line: Line, symbol: &str) -> Line {
    let pad = 3usize.saturating_sub(symbol.len());
    line.push(Tone::Plain, " ".repeat(pad)).symbol(symbol)
}

fn adoption_line(plan: &Plan, out: &mut Vec<Line>) {
    if let Some(text) = adoption_text(plan) {
        out.push(Line::plain(text));
    }
    if let Some(text) = mark_text(plan) {
        out.push(Line::plain(text));
    }
}

/// "N adopted objects get infra's ownership marker at the next apply."
pub(super) fn mark_text(plan: &Plan) -> Option<String> {
    match plan.marks().count() {
        0 => None,
        1 => Some("1 adopted object gets infra's ownership marker at the next apply; nothing else about it changes unless shown above.".into()),
        n => Some(format!(
            "{n} adopted objects get infra's ownership marker at the next apply; nothing else about them changes unless shown above."
        )),
    }
}

/// "N objects found by their ownership marker will be recorded in state."
pub(super) fn adoption_text(plan: &Plan) -> Option<String> {
    match plan.adoptions().count() {
        0 => None,
        1 => Some("1 object found by its ownership marker will be recorded in state.".into()),
        n => Some(format!(
            "{n} objects found by their ownership marker will be recorded in state."
        )),
    }
}
