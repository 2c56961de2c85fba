//! The `ProxmoxProvider`'s building blocks: reading guests (config + power
//! state), the bulk inventory, the OS template lookup, one create call with its
//! task, power changes, and the ownership check. `mod.rs` composes them into the
//! `Provider` operations.

use serde_json::Value;

use super::convert;
use super::guest::Guest;
use super::ProxmoxProvider;
use infra_kit::{marker, Desired, Observed, ProviderError, Result};

impl ProxmoxProvider {
    pub(super) fn path(&self, g: Guest, vmid: i64) -> String {
        format!("/nodes/{}/{}/{vmid}", self.node, g.api())
    }

    pub(super) fn owner(&self, config: &Value) -> Option<String> {
        convert::owner_from_tags(&self.project, config.get("tags").and_then(Value::as_str))
    }

    /// The config, or `None` when the guest does not exist (PVE: 500 "… does not exist").
    pub(super) async fn config(&self, g: Guest, vmid: i64) -> Result<Option<Value>> {
        match self
            .client
            .get(&format!("{}/config", self.path(g, vmid)), &[])
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(ProviderError::Rejected {
                status: Some(404 | 500),
                message,
            }) if message.contains("does not exist") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn running(&self, g: Guest, vmid: i64) -> Result<bool> {
        let st = self
            .client
            .get(&format!("{}/status/current", self.path(g, vmid)), &[])
            .await?;
        Ok(st.get("status").and_then(Value::as_str) == Some("running"))
    }

    pub(super) async fn observe(
        &self,
        g: Guest,
        vmid: i64,
        running: Option<bool>,
    ) -> Result<Option<Observed>> {
        let Some(config) = self.config(g, vmid).await? else {
            return Ok(None);
        };
        let running = match running {
            Some(r) => r,
            None => self.running(g, vmid).await?,
        };
        Ok(Some(Observed {
            id: vmid.to_string(),
            owner: self.owner(&config),
            attrs: g.observe(vmid, &config, running),
            claimed_by: None,
        }))
    }

    /// Guests of this type on this node (templates excluded), from the bulk call.
    pub(super) async fn resources(&self, g: Guest) -> Result<Vec<Value>> {
        let all = self
            .client
            .get("/cluster/resources", &[("type", "vm".into())])
            .await?;
        Ok(all
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|r| r.get("type").and_then(Value::as_str) == Some(g.api()))
            .filter(|r| r.get("node").and_then(Value::as_str) == Some(self.node.as_str()))
            .filter(|r| convert::boolean(r.get("template")) != Some(true))
            .cloned()
            .collect())
    }

    /// A guest already tagged for `address` (an earlier create whose reply was lost).
    pub(super) async fn find_owned(&self, g: Guest, address: &str) -> Result<Option<Observed>> {
        for r in self.resources(g).await? {
            let tags = r.get("tags").and_then(Value::as_str);
            if convert::owner_from_tags(&self.project, tags).as_deref() == Some(address) {
                if let Some(vmid) = convert::int(r.get("vmid")) {
                    let running = r.get("status").and_then(Value::as_str) == Some("running");
                    return self.observe(g, vmid, Some(running)).await;
                }
            }
        }
        Ok(None)
    }

    pub(super) async fn set_power(&self, g: Guest, vmid: i64, on: bool) -> Result<()> {
        let action = if on { "start" } else { "stop" };
        let upid = self
            .client
            .post(&format!("{}/status/{action}", self.path(g, vmid)), &[])
            .await?;
        self.client.wait_task(&upid, &self.node).await
    }

    /// An OS template volid: as given when it names a storage (`local:vztmpl/…`),
    /// else the newest template on `template_storage` (default `local`) whose file
    /// name starts with it (`debian-12` → `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`).
    pub(super) async fn ostemplate(&self, r: &Desired) -> Result<String> {
        let image = r
            .attrs
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if image.contains(':') {
            return Ok(image.to_string());
        }
        let storage = r
            .settings
            .get("template_storage")
            .and_then(Value::as_str)
            .unwrap_or("local");
        let list = self
            .client
            .get(
                &format!("/nodes/{}/storage/{storage}/content", self.node),
                &[("content", "vztmpl".into())],
            )
            .await?;
        let volids: Vec<&str> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.get("volid").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let file = |v: &str| v.rsplit('/').next().unwrap_or(v).to_string();
        volids
            .iter()
            .filter(|v| {
                let f = file(v);
                f == image || f.starts_with(&format!("{image}-")) || f.starts_with(&format!("{image}_"))
            })
            .max_by_key(|v| file(v))
            .map(|v| v.to_string())
            .ok_or_else(|| {
                let names: Vec<String> = volids.iter().map(|v| file(v)).collect();
                ProviderError::rejected(format!(
                    "no OS template matching `{image}` on storage {storage} of {} (there: {}); download one with `pveam download {storage} {image}-…`, or give the full volid",
                    self.node,
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ))
            })
    }

    pub(super) async fn create_once(&self, g: Guest, r: &Desired, vmid: i64) -> Result<()> {
        let mut params = vec![("vmid", vmid.to_string())];
        params.extend(g.create_params(r)?);
        if g == Guest::Lxc {
            let volid = self.ostemplate(r).await?;
            for p in params.iter_mut().filter(|(k, _)| *k == "ostemplate") {
                p.1 = volid.clone();
            }
        }
        let m = marker(&self.project, &r.address);
        params.push(("tags", convert::marker_tag(&self.project, &r.address)));
        let image = r.attrs.get("image").and_then(Value::as_str);
        params.push(("description", convert::description(&m, image)));
        let upid = self
            .client
            .post(&format!("/nodes/{}/{}", self.node, g.api()), &params)
            .await?;
        self.client.wait_task(&upid, &self.node).await
    }

    /// Refuse to touch a guest that does not carry this project's marker.
    pub(super) fn check_owner(
        &self,
        g: Guest,
        vmid: i64,
        config: &Value,
        address: Option<&str>,
    ) -> Result<()> {
        match (self.owner(config), address) {
            (None, _) => Err(ProviderError::NotOwned(format!(
                "{} {vmid} on {} has no infra tag of project `{}`; refusing to touch it (adopt it with `infra import`)",
                g.api(),
                self.node,
                self.project
            ))),
            (Some(o), Some(a)) if o != a => Err(ProviderError::NotOwned(format!(
                "{} {vmid} belongs to {o}, not {a}",
                g.api()
            ))),
            _ => Ok(()),
        }
    }

    /// The steps of an update after the configuration: grow the disk, power.
    pub(super) async fn resize_and_power(
        &self,
        g: Guest,
        vmid: i64,
        r: &Desired,
        live: &Observed,
        (want_disk, live_disk): (Option<i64>, Option<f64>),
    ) -> Result<()> {
        if let (Some(want), Some(have)) = (want_disk, live_disk) {
            if want as f64 > have {
                let upid = self
                    .client
                    .put(
                        &format!("{}/resize", self.path(g, vmid)),
                        &[("disk", g.disk_key().into()), ("size", format!("{want}G"))],
                    )
                    .await?;
                self.client.wait_task(&upid, &self.node).await?;
            }
        }
        let want_on = r
            .attrs
            .get("start")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let is_on = match live.attrs.get("start").and_then(Value::as_bool) {
            Some(b) => b,
            None => self.running(g, vmid).await?,
        };
        if want_on != is_on {
            self.set_power(g, vmid, want_on).await?;
        }
        Ok(())
    }
}
