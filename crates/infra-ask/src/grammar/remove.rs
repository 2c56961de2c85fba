//! Removals ("nuke paperless", "stop monitoring gitea", "take the proxy off
//! immich"), with "keep" vetoes, and the operations that replace addresses:
//! renames and clones.

use std::collections::BTreeSet;

use serde_json::Value;

use super::facts;
use super::lex::Kind;
use super::subject::{
    check_ambiguous, group_of, parts, resolve, runs, subject_name, subjects, unknown_reference,
    widened,
};
use super::vocab::{self, Verb};
use super::world::Mention;
use super::{decline, edit, Clause, Ctx, Grammar};
use crate::intent::Operation;
use infra_core::error::Error;

/// "… not … any more", "no longer …": something is not wanted any more.
pub fn says_no_longer(c: &Clause) -> bool {
    c.has_any(&["anymore", "longer"])
        && c.has_any(&[
            "shouldn't",
            "doesn't",
            "don't",
            "no",
            "not",
            "won't",
            "needn't",
        ])
}

/// "Moodle shouldn't go through the proxy any more": a part that is no longer wanted.
pub fn no_longer(c: &Clause) -> bool {
    says_no_longer(c)
        && c.toks.iter().any(|t| vocab::part_kind(&t.low).is_some())
        && !c.mentions.is_empty()
}

pub fn remove_parts(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let kinds: Vec<&str> = c
        .toks
        .iter()
        .filter_map(|t| vocab::part_kind(&t.low))
        .collect();
    let Some(m) = c.mentions.first() else {
        return Err(unknown_reference(g, c));
    };
    let targets = resolve(g, &m.cands, &kinds);
    if targets.is_empty() {
        return Err(unknown_reference(g, c));
    }
    for t in targets {
        if !already_removed(g, ctx, t) {
            ctx.push(Operation::Remove {
                target: g.world.entities[t].address(),
            });
        }
    }
    ctx.subject = m.cands.clone();
    Ok(())
}

pub fn remove(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    // "delete every dns record", "remove all monitors": sweeping, never from a conversation.
    let sweeping = c.toks.windows(2).any(|w| {
        matches!(w[0].low.as_str(), "every" | "all" | "each")
            && (vocab::part_kind(&w[1].low).is_some()
                || matches!(
                    w[1].low.as_str(),
                    "resources" | "resource" | "services" | "dns" | "things" | "records"
                ))
    });
    if sweeping {
        return Err(decline(
            "infra never removes everything of a kind from a conversation",
            "name what should go (\"remove the printer record\"); `infra destroy` removes everything, after showing the plan",
        ));
    }
    // Background sentences name things, but never what to remove.
    let mut c_own = Clause {
        toks: c.toks.clone(),
        mentions: c
            .mentions
            .iter()
            .filter(|m| !c.toks[m.start].context)
            .cloned()
            .collect(),
        verb: c.verb,
        verb_end: c.verb_end,
        text: c.text.clone(),
    };
    if c_own.mentions.len() == c.mentions.len() {
        c_own.mentions = c.mentions.clone();
    }
    let c = &c_own;
    // "drop the LAN restriction": the allow list goes, the site stays.
    if c.has_any(&["restriction", "restrictions", "allowlist", "whitelist"])
        || c.words().windows(2).any(|w| w == ["allow", "list"])
    {
        let subjects: Vec<Vec<usize>> = subjects(g, c, ctx);
        let Some(cands) = subjects.first() else {
            return Err(unknown_reference(g, c));
        };
        for t in resolve(g, cands, &["proxy_site"]) {
            let e = &g.world.entities[t];
            ctx.push(Operation::Set {
                address: e.address(),
                attribute: "allow".into(),
                value: Value::Null,
            });
        }
        ctx.subject = cands.clone();
        return Ok(());
    }
    let everything = c.has_any(&["everything", "resources", "project"])
        || c.words().windows(2).any(|w| {
            matches!(w[0], "all" | "every" | "whole" | "entire")
                && matches!(
                    w[1],
                    "resource"
                        | "resources"
                        | "of"
                        | "project"
                        | "services"
                        | "infrastructure"
                        | "the"
                )
        });
    let subjects = runs(c, &ctx.renamed);
    if subjects.is_empty() {
        // "drop vpn" after the same request renamed vpn: the old name is gone already.
        if c.mentions
            .iter()
            .any(|m| m.cands.iter().any(|e| ctx.renamed.contains(e)))
        {
            return Ok(());
        }
        if everything || c.has("all") {
            return Err(decline(
                "infra never removes everything from a conversation",
                "`infra destroy` removes every resource, after showing the plan and asking",
            ));
        }
        if c.has_any(&["it", "them", "its", "their"]) && !ctx.subject.is_empty() {
            return remove_subject(g, c, ctx, &ctx.subject.clone(), false);
        }
        return Err(unknown_reference(g, c));
    }
    if everything && subjects.iter().all(|s| s.weak) {
        return Err(decline(
            "infra never removes everything from a conversation",
            "`infra destroy` removes every resource, after showing the plan and asking",
        ));
    }
    for s in &subjects {
        remove_subject(g, c, ctx, &s.cands, s.weak)?;
    }
    Ok(())
}

pub(super) fn remove_subject(
    g: &Grammar,
    c: &Clause,
    ctx: &mut Ctx,
    cands: &[usize],
    weak: bool,
) -> Result<(), Error> {
    let wanted = parts(c);
    if !wanted.is_empty() {
        let targets = resolve(g, cands, &wanted);
        if targets.is_empty() {
            let (name, _) = subject_name(g, cands);
            return Err(decline(
                &format!("`{name}` has no {}", wanted.join(" or ")),
                "nothing to remove",
            ));
        }
        check_ambiguous(g, c, &targets, weak)?;
        for t in targets {
            if !already_removed(g, ctx, t) {
                ctx.push(Operation::Remove {
                    target: g.world.entities[t].address(),
                });
            }
        }
    } else {
        match group_of(g, cands) {
            Some(gr)
                if cands
                    .iter()
                    .all(|&e| g.world.entities[e].group.as_deref() == Some(gr.as_str())) =>
            {
                if !cands.iter().all(|&t| already_removed(g, ctx, t)) {
                    ctx.push(Operation::Remove {
                        target: format!("group:{gr}"),
                    });
                }
            }
            _ => {
                check_ambiguous(g, c, cands, weak)?;
                for &t in cands {
                    if !already_removed(g, ctx, t) {
                        ctx.push(Operation::Remove {
                            target: g.world.entities[t].address(),
                        });
                    }
                }
            }
        }
    }
    ctx.subject = cands.to_vec();
    Ok(())
}

/// Is this entity removed by an earlier clause (itself or with its group)?
pub(super) fn already_removed(g: &Grammar, ctx: &Ctx, e: usize) -> bool {
    let ent = &g.world.entities[e];
    let group = ent.group.as_ref().map(|gr| format!("group:{gr}"));
    ctx.ops.iter().any(|o| matches!(o, Operation::Remove { target } if *target == ent.address() || Some(target) == group.as_ref()))
}

/// "but keep its DNS", "keep the container and its DNS", "keep the rest".
pub fn keep(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    keep_only(g, c, ctx);
    // "keep its DNS name, pointing it at 10.0.20.99": a value said here edits what is kept.
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    if !facts::extract(&c.toks, &spans).is_empty() {
        let mut rest = Clause {
            toks: c.toks.clone(),
            mentions: c.mentions.clone(),
            verb: None,
            verb_end: 0,
            text: c.text.clone(),
        };
        rest.toks[0].low = "set".into();
        return edit::edit(g, &rest, ctx);
    }
    Ok(())
}

/// What a keep clause keeps, recorded in `ctx.keep`.
pub fn keep_only(g: &Grammar, c: &Clause, ctx: &mut Ctx) {
    let subjects = runs(c, &BTreeSet::new());
    let base: Vec<usize> = match subjects.first() {
        Some(s) => s.cands.clone(),
        None => ctx.subject.clone(),
    };
    if base.is_empty() {
        return;
    }
    let wanted = parts(c);
    let kept: Vec<usize> = if wanted.is_empty() {
        // "keep the rest", "leave the print server itself alone": what the request
        // does not remove by name stays.
        if c.has("rest") || base.len() > 1 {
            let removed: BTreeSet<String> = ctx
                .ops
                .iter()
                .filter_map(|o| match o {
                    Operation::Remove { target } => Some(target.clone()),
                    _ => None,
                })
                .collect();
            widened(g, &base)
                .into_iter()
                .filter(|&e| !removed.contains(&g.world.entities[e].address()))
                .collect()
        } else {
            base.clone()
        }
    } else {
        resolve(g, &base, &wanted)
    };
    for e in &kept {
        let a = g.world.entities[*e].address();
        if !ctx.keep.contains(&a) {
            ctx.keep.push(a);
        }
    }
    if !kept.is_empty() {
        ctx.subject = kept;
    }
}

/// "make a staging copy of paperless called paperless-staging", "clone acme-shop as acme-shop-staging".
pub fn clone(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let names = super::names::new_names(g, c)?;
    let Some(to) = names.first().cloned() else {
        return Err(decline(
            "it does not say what the copy is called",
            "say \"… called NAME\" or \"clone X as NAME\"",
        ));
    };
    let source: Option<&Mention> = c
        .mentions
        .iter()
        .find(|m| !m.cands.is_empty() && !c.toks[m.start].low.contains(&to));
    let Some(m) = source else {
        return Err(unknown_reference(g, c));
    };
    let Some(group) = group_of(g, &m.cands) else {
        return Err(decline(
            "only a whole service (a group) can be copied",
            "name the service to copy",
        ));
    };
    ctx.push(Operation::Clone {
        group,
        to: to.clone(),
    });
    ctx.subject.clear();
    Ok(())
}

/// "rename the printer DNS record to laser".
pub fn rename(g: &Grammar, c: &Clause, ctx: &mut Ctx) -> Result<(), Error> {
    let Some(m) = c.mentions.first() else {
        return Err(unknown_reference(g, c));
    };
    let to = c
        .toks
        .iter()
        .position(|t| t.is("to") || t.is("as") || t.kind == Kind::Punct('>'))
        .and_then(|i| c.toks.get(i + 1));
    let Some(to) = to else {
        return Err(decline(
            "it does not say the new name",
            "say \"rename X to NAME\"",
        ));
    };
    let wanted = parts(c);
    let targets = if wanted.is_empty() {
        m.cands.clone()
    } else {
        resolve(g, &m.cands, &wanted)
    };
    if let [one] = targets.as_slice() {
        let e = &g.world.entities[*one];
        if e.kind == "dns_record" {
            let (zone, label) = match to.kind {
                Kind::Fqdn => g.world.split_host(&to.low).ok_or_else(|| {
                    decline(
                        &format!("no zone of this project holds {}", to.low),
                        "use a name in one of the project's zones",
                    )
                })?,
                _ => (
                    e.str("zone").unwrap_or_default().to_string(),
                    super::names::slug(&to.raw)?,
                ),
            };
            let address = e.address();
            ctx.push(Operation::Set {
                address: address.clone(),
                attribute: "name".into(),
                value: Value::from(label.clone()),
            });
            if e.str("zone") != Some(zone.as_str()) {
                ctx.push(Operation::Set {
                    address: address.clone(),
                    attribute: "zone".into(),
                    value: Value::from(zone),
                });
            }
            let new = super::names::slug(&label.replace('@', "apex"))?;
            if g.world.find(&format!("dns_record.{new}")).is_none() {
                ctx.push(Operation::Rename { address, to: new });
            }
            ctx.renamed.insert(*one);
            return Ok(());
        }
    }
    let new = super::names::slug(&to.raw)?;
    match group_of(g, &targets) {
        Some(gr) if wanted.is_empty() => ctx.push(Operation::Rename {
            address: format!("group:{gr}"),
            to: new,
        }),
        _ => {
            check_ambiguous(g, c, &targets, m.weak)?;
            for t in targets {
                ctx.push(Operation::Rename {
                    address: g.world.entities[t].address(),
                    to: new.clone(),
                });
            }
        }
    }
    let _ = Verb::Rename;
    Ok(())
}
