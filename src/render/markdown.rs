//! Markdown for a pull-request comment, shaped for review: a warning that leads
//! with destroys and replacements, the summary, a table of actions (dangerous
//! ones first), then the full human plan folded in a `<details>` block. Sizes
//! are bounded because GitHub rejects comments over 65,536 characters (Atlantis
//! splits them, which users find hard to read); we truncate instead and say so.

use super::attrs::{self, Sides};
use super::human::{self, NO_CHANGES};
use super::markup::finish_diff;
use crate::plan::{Action, Plan, Reason, ResourceChange};

/// The `<details>` block never exceeds this many bytes (bytes ≥ characters, so
/// it is also a character bound).
const DETAILS_LIMIT: usize = 60_000;
/// The whole comment stays under GitHub's limit, with a margin for a footer
/// another tool may add.
const COMMENT_LIMIT: usize = 65_000;
/// Rows in the table and entries in the warning before "…and N more".
const MAX_ROWS: usize = 50;
const MAX_WARNED: usize = 20;
/// Attribute names in one table cell before "…and N more".
const MAX_ATTRS: usize = 10;

pub fn render(plan: &Plan) -> String {
    let mut out = String::from("### infra plan\n\n");
    if plan.has_changes() {
        warning(plan, &mut out);
        let s = plan.summary();
        out.push_str(&format!(
            "**Plan:** {} to add, {} to change, {} to destroy.\n\n",
            s.add, s.change, s.destroy
        ));
    } else {
        out.push_str(NO_CHANGES);
        out.push_str("\n\n");
    }
    notes(plan, &mut out);
    if plan.has_changes() {
        table(plan, &mut out);
    }
    // What a reviewer approves: `infra apply --expect-digest` applies only this plan.
    out.push_str(&format!("Plan digest: `{}`\n\n", plan.digest()));
    // The details hold the drift section too, so show them whenever there is any.
    if plan.has_changes() || !plan.drift.is_empty() {
        let text = finish_diff(&human::lines(plan));
        let budget = DETAILS_LIMIT.min(COMMENT_LIMIT.saturating_sub(out.len()));
        out.push_str(&details(&text, budget));
    }
    out
}

/// `> [!WARNING]` naming every destroy and replacement, destroys first.
fn warning(plan: &Plan, out: &mut String) {
    let of = |action| sorted(plan).into_iter().filter(move |c| c.action == action);
    let (deletes, replaces) = (of(Action::Delete).count(), of(Action::Replace).count());
    let headline = match (deletes, replaces) {
        (0, 0) => return,
        (d, 0) => format!("This plan destroys {}:", objects(d)),
        (0, r) => format!("This plan replaces {} (destroy, then create):", objects(r)),
        (d, r) => format!("This plan destroys {} and replaces {r}:", objects(d)),
    };
    out.push_str(&format!("> [!WARNING]\n> {headline}\n"));
    let dangerous: Vec<&ResourceChange> = of(Action::Delete).chain(of(Action::Replace)).collect();
    for change in dangerous.iter().take(MAX_WARNED) {
        let why = if change.action == Action::Delete {
            let reasons: Vec<&str> = change.reasons.iter().map(short_reason).collect();
            let why = if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            };
            format!("will be destroyed{why}")
        } else if change.replace_paths.is_empty() {
            "will be replaced, as requested (`--replace`)".to_string()
        } else {
            let forces: Vec<String> = change.replace_paths.iter().map(|p| code(p)).collect();
            let verb = if forces.len() == 1 { "forces" } else { "force" };
            format!(
                "must be replaced ({} {verb} replacement)",
                forces.join(", ")
            )
        };
        out.push_str(&format!("> - {} {why}\n", code(&change.address)));
    }
    if dangerous.len() > MAX_WARNED {
        out.push_str(&format!("> - …and {} more\n", dangerous.len() - MAX_WARNED));
    }
    out.push('\n');
}

/// Drift and adoption, which the summary counts do not show.
fn notes(plan: &Plan, out: &mut String) {
    if !plan.drift.is_empty() {
        let listed: Vec<String> = plan
            .drift
            .iter()
            .take(MAX_WARNED)
            .map(|d| {
                let what = if d.after.is_some() {
                    "changed"
                } else {
                    "deleted"
                };
                format!("{} ({what})", code(&d.address))
            })
            .collect();
        let more = plan.drift.len().saturating_sub(MAX_WARNED);
        let more = if more > 0 {
            format!(", …and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "**Drift:** {} changed outside infra: {}{more}.\n\n",
            objects(plan.drift.len()),
            listed.join(", ")
        ));
    }
    let beside: Vec<String> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c, c.beside.as_ref()?)))
        .take(MAX_WARNED)
        .map(|(c, id)| {
            format!(
                "{} (to manage it instead: `infra import {} {id}`)",
                code(&c.address),
                c.address
            )
        })
        .collect();
    if !beside.is_empty() {
        out.push_str(&format!(
            "**Beside unmanaged objects:** an object infra does not manage already has the name of {}.\n\n",
            beside.join(", ")
        ));
    }
    if let Some(text) = human::adoption_text(plan) {
        // Name them: an adoption without changes appears nowhere else.
        let adopted: Vec<&ResourceChange> = plan.adoptions().collect();
        let mut names: Vec<String> = adopted
            .iter()
            .take(MAX_WARNED)
            .map(|c| code(&c.address))
            .collect();
        if adopted.len() > MAX_WARNED {
            names.push(format!("…and {} more", adopted.len() - MAX_WARNED));
        }
        let text = text.trim_end_matches('.');
        out.push_str(&format!("{text}: {}.\n\n", names.join(", ")));
    }
    if let Some(text) = human::mark_text(plan) {
        out.push_str(&format!("{text}\n\n"));
    }
}

/// One row per action, destroys and replacements first so they are not missed.
fn table(plan: &Plan, out: &mut String) {
    out.push_str("| Action | Resource | Changed attributes |\n|---|---|---|\n");
    let changes = sorted(plan);
    for change in changes.iter().take(MAX_ROWS) {
        let action = match change.action {
            Action::Create => "`+` create",
            Action::Update => "`~` update",
            Action::Replace => "`-/+` replace",
            Action::Delete => "`-` destroy",
            Action::NoOp => "no-op",
        };
        let reasons: Vec<&str> = change.reasons.iter().map(short_reason).collect();
        let resource = if reasons.is_empty() {
            code(&change.address)
        } else {
            format!("{} ({})", code(&change.address), reasons.join(", "))
        };
        out.push_str(&format!(
            "| {action} | {resource} | {} |\n",
            changed_cell(change)
        ));
    }
    if changes.len() > MAX_ROWS {
        out.push_str(&format!("| | …and {} more | |\n", changes.len() - MAX_ROWS));
    }
    out.push('\n');
}

/// The attributes an update or replacement touches, the same ones the human
/// plan shows; creates and destroys touch everything, so the cell stays empty.
fn changed_cell(change: &ResourceChange) -> String {
    if !matches!(change.action, Action::Update | Action::Replace) {
        return "—".into();
    }
    let rows = attrs::rows(&Sides {
        before: change.before.as_deref(),
        after: change.after.as_deref(),
        unknown: &change.after_unknown,
        sensitive: &change.sensitive,
        forces: &change.replace_paths,
        restarts: &change.restart_paths,
    })
    .rows;
    let mut names: Vec<String> = rows
        .iter()
        .take(MAX_ATTRS)
        .map(|r| {
            if r.forces {
                format!("{} (forces replacement)", code(&r.name))
            } else if r.restarts {
                format!("{} (after a restart)", code(&r.name))
            } else {
                code(&r.name)
            }
        })
        .collect();
    if rows.len() > MAX_ATTRS {
        names.push(format!("…and {} more", rows.len() - MAX_ATTRS));
    }
    names.join(", ")
}

fn short_reason(reason: &Reason) -> &'static str {
    match reason {
        Reason::Renew { .. } => "renewal",
        Reason::NotInSpec => "not in the spec",
        Reason::Destroy => "infra destroy",
        Reason::DeletedOutOfBand => "deleted outside infra",
        Reason::Adopted => "adopted",
        Reason::ReplaceRequested => "as requested",
        Reason::Mark => "marked as infra's",
    }
}

/// Non-NoOp changes by danger (destroy, replace, update, create), then address.
fn sorted(plan: &Plan) -> Vec<&ResourceChange> {
    let rank = |a: Action| match a {
        Action::Delete => 0,
        Action::Replace => 1,
        Action::Update => 2,
        Action::Create => 3,
        Action::NoOp => 4,
    };
    let mut changes: Vec<&ResourceChange> = plan.actions().collect();
    changes.sort_by(|a, b| {
        rank(a.action)
            .cmp(&rank(b.action))
            .then(a.address.cmp(&b.address))
    });
    changes
}

/// The full plan in a fold, cut at a line boundary to fit `budget` bytes.
fn details(text: &str, budget: usize) -> String {
    // A fence longer than any backtick run in the plan, so content cannot close it.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let wrap = |summary: &str, body: &str| {
        format!(
            "<details><summary>{summary}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n"
        )
    };
    let full = wrap("Full plan", text);
    if full.len() <= budget {
        return full;
    }
    let total = text.lines().count();
    let notice = |hidden: usize| {
        format!("… truncated: {hidden} more lines not shown; run `infra plan` for the full plan\n")
    };
    let reserve = wrap("Full plan (truncated)", "").len() + notice(total).len();
    let mut kept = String::new();
    let mut shown = 0;
    for line in text.lines() {
        if kept.len() + line.len() + 1 + reserve > budget {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
        shown += 1;
    }
    kept.push_str(&notice(total - shown));
    wrap("Full plan (truncated)", &kept)
}

/// Inline code that cannot break a table cell.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

fn objects(n: usize) -> String {
    if n == 1 {
        "1 object".into()
    } else {
        format!("{n} objects")
    }
}
