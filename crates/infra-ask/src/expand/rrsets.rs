//! A new DNS record beside existing ones of the same name and type (a
//! verification TXT beside the SPF) joins their record set, which has one TTL
//! on servers like PowerDNS: the new record takes the TTL the set already has.

use serde_json::Value;
use toml_edit::value;

use super::Expander;
use infra_core::error::Result;
use infra_core::spec::schema::kinds;
use infra_core::spec::Address;

impl Expander<'_> {
    pub(super) fn share_rrset_ttls(&mut self) -> Result<()> {
        let created: Vec<(String, std::path::PathBuf)> = self
            .created
            .iter()
            .filter(|(a, _)| a.starts_with(&format!("{}.", kinds::DNS_RECORD)))
            .map(|(a, p)| (a.clone(), p.clone()))
            .collect();
        let spec = self.spec;
        for (address, path) in created {
            let Some(addr) = Address::parse(&address) else {
                continue;
            };
            if spec.resource(&addr).is_some() {
                continue; // an edit of an existing record, not a new one
            }
            let doc = self.doc(&path)?;
            let Some(table) = doc
                .get_mut(kinds::DNS_RECORD)
                .and_then(|t| t.get_mut(&addr.name))
                .and_then(|t| t.as_table_like_mut())
            else {
                continue;
            };
            let text = |k: &str| table.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let (Some(zone), Some(name), Some(rtype)) = (text("zone"), text("name"), text("type"))
            else {
                continue;
            };
            let sibling_ttl = spec
                .resources
                .iter()
                .filter(|r| r.address.kind == kinds::DNS_RECORD && r.address != addr)
                .find(|r| {
                    let s = |k: &str| r.attrs.get(k).and_then(Value::as_str);
                    s("zone") == Some(zone.as_str())
                        && s("name") == Some(name.as_str())
                        && s("type") == Some(rtype.as_str())
                })
                .map(|r| r.attrs.get("ttl").and_then(Value::as_i64).unwrap_or(300));
            if let Some(ttl) = sibling_ttl {
                table.insert("ttl", value(ttl));
            }
        }
        Ok(())
    }
}
