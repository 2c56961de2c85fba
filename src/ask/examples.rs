//! Capability examples run as tests through the offline interpreter: the request
//! must choose the capability and yield the expected parameters (or be declined).

use super::offline::Offline;
use super::router::Router;
use super::view::SpecNames;
use super::Operation;
use crate::capability::{Capability, Example, ExampleRunner, Library, ParamType};

pub struct OfflineExamples<'a> {
    library: &'a Library,
    router: Router,
}

impl<'a> OfflineExamples<'a> {
    pub fn new(library: &'a Library) -> Self {
        OfflineExamples {
            library,
            router: Router::new(&library.caps),
        }
    }
}

impl ExampleRunner for OfflineExamples<'_> {
    fn run(&mut self, cap: &Capability, example: &Example) -> Result<(), String> {
        // What an update or removal names must exist: pretend it does.
        let mut names = SpecNames::default();
        for p in cap.params.iter().filter(|p| p.ty == ParamType::Target) {
            if let Some(t) = example.expect.get(&p.name).and_then(|v| v.as_str()) {
                if let Some(g) = t.strip_prefix("group:") {
                    names.groups.insert(g.to_string());
                } else if let Some((_, name)) = t.split_once('.') {
                    names.addresses.insert(t.to_string());
                    names.names.insert(name.to_string());
                } else {
                    names.groups.insert(t.to_string());
                }
            }
        }
        // A provider the example names ("on pve1") is declared in its project.
        if let Some(p) = example.expect.get("provider").and_then(|v| v.as_str()) {
            names.providers.insert(p.to_string());
        }
        let offline = Offline {
            library: self.library,
            router: &self.router,
            names,
        };
        let result = offline.understand(&example.request);
        if example.declined {
            // Declining outright, or lacking a required value (so `ask` would have to
            // ask), both mean the interpreter did not act on its own.
            let acts = match &result {
                Ok(i) => i.operations.iter().all(|op| match op {
                    Operation::UseCapability { params, .. } => cap
                        .params
                        .iter()
                        .filter(|p| p.required)
                        .all(|p| params.contains_key(&p.name)),
                    _ => true,
                }),
                Err(_) => false,
            };
            return match (acts, result) {
                (false, _) => Ok(()),
                (true, Ok(i)) => Err(format!(
                    "expected a decline, got {}",
                    serde_json::to_string(&i.operations).unwrap_or_default()
                )),
                (true, Err(_)) => unreachable!("an error does not act"),
            };
        }
        let intent = result.map_err(|e| format!("declined: {}", e.message))?;
        let Some(Operation::UseCapability { capability, params }) = intent.operations.first()
        else {
            return Err("no capability chosen".into());
        };
        if capability != &cap.name {
            return Err(format!("chose `{capability}` instead"));
        }
        let mut diffs = Vec::new();
        for (k, want) in &example.expect {
            let norm = |v: &serde_json::Value| {
                cap.param(k)
                    .and_then(|p| p.ty.check(v).ok())
                    .unwrap_or_else(|| v.clone())
            };
            match params.get(k) {
                Some(got) if norm(got) == norm(want) => {}
                Some(got) => diffs.push(format!("{k} = {got}, expected {want}")),
                None => diffs.push(format!("{k} missing, expected {want}")),
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("; "))
        }
    }
}
