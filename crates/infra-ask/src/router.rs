//! The router: ranks capabilities against a request by their triggers, names,
//! summaries and examples. An inverted index keeps it fast with hundreds of
//! capabilities; scores are deterministic (ties broken by name).

use std::collections::HashMap;

use super::words::{correct, normalise, tokens, FILLER};
use infra_capability::Capability;

pub struct Router {
    /// token → (capability index, weight)
    index: HashMap<String, Vec<(usize, f32)>>,
    /// Multi-word triggers, matched as phrases: (phrase with spaces around, capability, weight).
    phrases: Vec<(String, usize, f32)>,
    names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub index: usize,
    pub name: String,
    pub score: f32,
}

/// Meaningful words of a text. Typo correction is for requests only: capability
/// texts are spelled by their authors, and correcting them costs time per load.
fn words(text: &str, fix_typos: bool) -> Vec<String> {
    let mut t = tokens(&normalise(text));
    if fix_typos {
        correct(&mut t);
    }
    t.retain(|w| !FILLER.contains(&w.as_str()) && w.chars().any(|c| c.is_ascii_alphabetic()));
    t
}

impl Router {
    pub fn new(caps: &[Capability]) -> Router {
        let mut index: HashMap<String, Vec<(usize, f32)>> = HashMap::new();
        let mut phrases = Vec::new();
        let mut add = |w: String, i: usize, weight: f32| {
            let list = index.entry(w).or_default();
            match list.iter_mut().find(|(j, _)| *j == i) {
                // One token counts once per capability, at its strongest weight.
                Some(entry) => entry.1 = entry.1.max(weight),
                None => list.push((i, weight)),
            }
        };
        for (i, c) in caps.iter().enumerate() {
            for part in c.name.split('-') {
                add(part.to_string(), i, 2.0);
            }
            for t in &c.triggers {
                let ws = words(t, false);
                if ws.len() > 1 {
                    phrases.push((format!(" {} ", ws.join(" ")), i, 2.0 * ws.len() as f32));
                }
                let phrase = ws.len() > 1;
                for w in ws {
                    // Inside a phrase, a bare verb ("make" of "make it accessible") says nothing alone.
                    if !(phrase && crate::words::is_verb(&w)) {
                        add(w, i, 1.5);
                    }
                }
            }
            // Verbs in prose and examples are generic ("make", "create"): only nouns route.
            for w in words(&c.summary, false)
                .into_iter()
                .filter(|w| !crate::words::is_verb(w))
            {
                add(w, i, 0.5);
            }
            for e in &c.examples {
                for w in words(&e.request, false)
                    .into_iter()
                    .filter(|w| !crate::words::is_verb(w))
                {
                    add(w, i, 0.25);
                }
            }
        }
        Router {
            index,
            phrases,
            names: caps.iter().map(|c| c.name.clone()).collect(),
        }
    }

    /// Capabilities with a positive score, best first.
    pub fn rank(&self, request: &str) -> Vec<Ranked> {
        let ws = words(request, true);
        let joined = format!(" {} ", ws.join(" "));
        let mut scores: HashMap<usize, f32> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for w in &ws {
            if !seen.insert(w.as_str()) {
                continue;
            }
            for (i, weight) in self.index.get(w).into_iter().flatten() {
                *scores.entry(*i).or_default() += weight;
            }
        }
        for (p, i, weight) in &self.phrases {
            if joined.contains(p.as_str()) {
                *scores.entry(*i).or_default() += weight;
            }
        }
        let mut ranked: Vec<Ranked> = scores
            .into_iter()
            .filter(|(_, s)| *s > 0.0)
            .map(|(index, score)| Ranked {
                index,
                name: self.names[index].clone(),
                score,
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        ranked
    }
}
