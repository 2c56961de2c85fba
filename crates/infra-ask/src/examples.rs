//! Capability examples run as tests through the offline interpreter: the request
//! must choose the capability and yield the expected parameters (or be declined).
//! An update or removal example runs against a small project in which what it
//! names exists; its operations are read back as the capability's parameters.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::grammar::world::{Entity, World};
use super::offline::Offline;
use super::router::Router;
use super::Operation;
use infra_capability::{CapAction, Capability, Example, ExampleRunner, Library, ParamType};

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

/// A project in which the example's targets exist: each as a service group
/// with a machine, a record and a proxy site.
fn world_for(cap: &Capability, example: &Example) -> World {
    let mut entities = Vec::new();
    for p in cap.params.iter().filter(|p| p.ty == ParamType::Target) {
        let Some(t) = example.expect.get(&p.name).and_then(Value::as_str) else {
            continue;
        };
        let name = t.strip_prefix("group:").unwrap_or(t);
        let (kind, name) = name.split_once('.').unwrap_or(("container", name));
        let attrs = |v: Value| -> BTreeMap<String, Value> {
            v.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let group = Some(name.to_string());
        entities.push(Entity {
            kind: kind.into(),
            name: name.into(),
            group: group.clone(),
            attrs: attrs(json!({"cores": 1, "memory": 512, "disk": 8, "ip": "10.0.0.50/24", "hostname": name})),
        });
        if kind == "container" {
            entities.push(Entity {
                kind: "dns_record".into(),
                name: name.into(),
                group,
                attrs: attrs(json!({"zone": "example.com", "name": name, "type": "A", "content": "10.0.0.50"})),
            });
        }
    }
    let mut providers = BTreeMap::new();
    if let Some(p) = example.expect.get("provider").and_then(Value::as_str) {
        providers.insert(p.to_string(), "proxmox".to_string());
    }
    let zones: BTreeSet<String> = ["example.com", "example.org", "lab.example.com"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    World::new(
        entities,
        providers,
        zones,
        Some("example.com".into()),
        vec!["10.0.0.0/24".into()],
    )
}

/// The operations as the capability's parameters: what a resize sets, what a removal names.
fn as_params(cap: &Capability, ops: &[Operation]) -> Option<(String, Map<String, Value>)> {
    if let Some(Operation::UseCapability {
        capability, params, ..
    }) = ops.first()
    {
        return Some((capability.clone(), params.clone()));
    }
    let target = cap
        .params
        .iter()
        .find(|p| p.ty == ParamType::Target)
        .map(|p| p.name.clone())?;
    let mut params = Map::new();
    for op in ops {
        match op {
            Operation::Set {
                address,
                attribute,
                value,
            } => {
                params.insert(
                    target.clone(),
                    Value::from(address.split_once('.').map(|(_, n)| n).unwrap_or(address)),
                );
                params.insert(attribute.clone(), value.clone());
            }
            Operation::Remove { target: t } if cap.action == CapAction::Remove => {
                params.insert(target.clone(), Value::from(t.clone()));
            }
            _ => {}
        }
    }
    (!params.is_empty()).then(|| (cap.name.clone(), params))
}

/// "group:api" and "container.api" name the same service as "api".
fn bare(v: &Value) -> Value {
    match v.as_str() {
        Some(s) => {
            let s = s.strip_prefix("group:").unwrap_or(s);
            Value::from(s.split_once('.').map(|(_, n)| n).unwrap_or(s))
        }
        None => v.clone(),
    }
}

impl ExampleRunner for OfflineExamples<'_> {
    fn run(&mut self, cap: &Capability, example: &Example) -> Result<(), String> {
        let offline = Offline {
            library: self.library,
            router: &self.router,
            world: world_for(cap, example),
        };
        let result = offline.understand(&example.request);
        if example.declined {
            return match result {
                Err(_) => Ok(()),
                Ok(i) => Err(format!(
                    "expected a decline, got {}",
                    serde_json::to_string(&i.operations).unwrap_or_default()
                )),
            };
        }
        let intent = result.map_err(|e| format!("declined: {}", e.message))?;
        let Some((capability, params)) = as_params(cap, &intent.operations) else {
            return Err(format!(
                "no operation for it: {}",
                serde_json::to_string(&intent.operations).unwrap_or_default()
            ));
        };
        if capability != cap.name {
            return Err(format!("chose `{capability}` instead"));
        }
        let mut diffs = Vec::new();
        for (k, want) in &example.expect {
            let norm = |v: &Value| {
                let v = cap
                    .param(k)
                    .and_then(|p| p.ty.check(v).ok())
                    .unwrap_or_else(|| v.clone());
                if cap.param(k).is_some_and(|p| p.ty == ParamType::Target) {
                    bare(&v)
                } else {
                    v
                }
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
