//! What each clause of a request is about, read from the request's own words
//! with the grammar's clause splitting: the things it names, and whether it asks
//! to remove something. The safety rules hold every interpreter's operations to
//! it: "resize grafana and delete nextcloud" licenses a change of grafana and a
//! removal of nextcloud, never the other way round.

use std::collections::BTreeSet;

use super::grammar::facts;
use super::grammar::lex::{self, lex};
use super::grammar::vocab::{self, Verb};
use super::grammar::world::World;
use super::grammar::{background, edit, Clause, Grammar};

pub struct Scope {
    parts: Vec<Part>,
}

struct Part {
    /// Entities the clause names, background sentences included ("The SIMS
    /// server is struggling. Could you give it more memory?").
    names: BTreeSet<usize>,
    /// Entities the clause names outside background sentences: only these may be
    /// removed.
    asked: BTreeSet<usize>,
    /// A removal verb, or "… shouldn't go through the proxy any more".
    removes: bool,
    /// It names a setting or a value ("drop the LAN restriction", "take one core
    /// away"): its removal verb changes something rather than removing it.
    sets: bool,
}

impl Scope {
    pub fn of(g: &Grammar, request: &str) -> Scope {
        let toks = background(lex(request, &g.world.zones));
        let mut parts: Vec<Part> = Vec::new();
        for c in g.clauses(&toks, &lex::normalise(request)) {
            let mut names: BTreeSet<usize> =
                c.mentions.iter().flat_map(|m| m.cands.clone()).collect();
            let mut asked: BTreeSet<usize> = c
                .mentions
                .iter()
                .filter(|m| !c.toks[m.start].context)
                .flat_map(|m| m.cands.clone())
                .collect();
            // A clause that names nothing is about what the one before named ("make it
            // 8 gigs", "delete it"): the grammar carries its subject over the same way.
            if names.is_empty() {
                if let Some(prev) = parts.last() {
                    names = prev.names.clone();
                    asked = prev.asked.clone();
                }
            }
            parts.push(Part {
                names,
                asked,
                removes: removes(&c),
                sets: sets(&c),
            });
        }
        Scope { parts }
    }

    /// May the request change entity `e`: does a clause name it (or its group)
    /// other than one that only asks to remove it?
    pub fn may_change(&self, w: &World, e: usize) -> bool {
        self.parts
            .iter()
            .any(|p| (!p.removes || p.sets) && names(w, &p.names, e))
    }

    /// Does any clause name `e` (or its group)?
    pub fn names(&self, w: &World, e: usize) -> bool {
        self.parts.iter().any(|p| names(w, &p.names, e))
    }

    /// May the request remove these entities (one resource, or a group's
    /// members): does a clause that asks for a removal name one of them?
    pub fn may_remove(&self, w: &World, members: &[usize]) -> bool {
        self.parts
            .iter()
            .any(|p| p.removes && members.iter().any(|&e| names(w, &p.asked, e)))
    }
}

/// `e` is named, by itself or by its group ("gitea" names its DNS record too).
fn names(w: &World, named: &BTreeSet<usize>, e: usize) -> bool {
    named.contains(&e)
        || w.entities[e]
            .group
            .as_deref()
            .is_some_and(|g| w.group_members(g).iter().any(|m| named.contains(m)))
}

fn removes(c: &Clause) -> bool {
    let words = c.words();
    super::grammar::remove::says_no_longer(c)
        || (0..words.len()).any(|i| {
            !c.in_mention(i) && vocab::verb_at(&words, i).is_some_and(|(v, _)| v == Verb::Remove)
        })
}

fn sets(c: &Clause) -> bool {
    let spans: Vec<(usize, usize)> = c.mentions.iter().map(|m| (m.start, m.end)).collect();
    edit::is_quantity_change(c)
        || !facts::extract(&c.toks, &spans).is_empty()
        || c.toks
            .iter()
            .enumerate()
            .any(|(i, t)| !c.in_mention(i) && vocab::attribute(&t.low).is_some())
        || c.has_any(&[
            "restriction",
            "restrictions",
            "allowlist",
            "whitelist",
            "limit",
        ])
        || c.words().windows(2).any(|w| w == ["allow", "list"])
}
