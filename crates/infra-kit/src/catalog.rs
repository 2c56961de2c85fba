//! What a provider declares statically (`ProviderInfo`): the kinds it serves,
//! its settings as a typed struct, and its audit. Validation and the plan use
//! these without building a provider, so every mistake they can see is reported
//! at `infra validate` with the file and line, before anything is changed.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::{Context, Desired};
use infra_core::spec::validate::is_secret_ref;
use infra_core::spec::{Attrs, Value};

/// `check_spec`: the spec, the provider instance, and every provider kind.
pub type SpecCheckFn = fn(
    &infra_core::spec::Spec,
    &infra_core::spec::ProviderConfig,
    &[&ProviderInfo],
) -> Vec<infra_core::spec::Diagnostic>;

/// What a provider kind declares without being built (so without credentials):
/// validation, the plan and `infra capabilities` read it from the registry.
pub struct ProviderInfo {
    pub kind: &'static str,
    /// The resource kinds it serves, with what it cannot change in place.
    pub kinds: &'static [KindSupport],
    /// Names, help and which are required or secret, for messages and docs.
    pub settings: &'static [Setting],
    /// Parses `[providers.NAME]` into the provider's typed settings; every problem
    /// by setting name. Usually `check_settings::<TheSettings>`.
    pub check_settings: fn(&Attrs, &Path) -> Vec<Finding>,
    /// Checks of the resources it serves against the rest of the spec (what other
    /// providers they work through), at `infra validate`. `None` for most.
    pub check_spec: Option<SpecCheckFn>,
    /// What the live API would refuse or store in another form, found without
    /// calling it: run at `infra validate` and plan, and again before each write.
    /// `None` for an API that takes whatever the schema allows.
    pub audit: Option<AuditFn>,
}

impl std::fmt::Debug for ProviderInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInfo")
            .field("kind", &self.kind)
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl ProviderInfo {
    pub fn serves(&self, kind: &str) -> bool {
        self.kind_support(kind).is_some()
    }

    pub fn kind_support(&self, kind: &str) -> Option<&'static KindSupport> {
        self.kinds.iter().find(|k| k.kind == kind)
    }
}

/// What a provider can do with one kind. Static, so the plan knows it without
/// building the provider (and without its credentials).
#[derive(Debug, Clone)]
pub struct KindSupport {
    pub kind: &'static str,
    /// Attributes this provider cannot change in place (beyond the schema's force_new).
    pub replace_on: &'static [&'static str],
    /// Attributes it changes in place, but which take effect only when the object
    /// restarts (a QEMU VM's memory without hotplug, for example).
    pub restart_on: &'static [&'static str],
    /// Attributes used only at create that the API never reports back (a Proxmox
    /// guest's template): when the live object does not show one, the spec's value
    /// is no change at all — never a replacement of an imported object.
    pub write_only: &'static [&'static str],
    /// What makes two resources one object on this provider, when it differs from
    /// the schema's `identity` (Docker names containers by address, so hostnames
    /// may repeat; a PowerDNS rrset is one zone, name and type).
    pub identity: Option<&'static [&'static str]>,
    /// Per-resource settings it takes in `[KIND.NAME.PROVIDER]`.
    pub settings: &'static [&'static str],
    /// Those it changes in place; a change of any other forces replacement.
    pub settings_in_place: &'static [&'static str],
    /// Checks one setting's value (its name is one of `settings`), so a bad value
    /// is an error of the spec, found before a replacement deletes anything.
    pub check_setting: fn(&str, &Value) -> Result<(), String>,
    /// Why a live object of this kind cannot be taken over by `infra adopt`
    /// (the provider cannot add infra's marker to it); `None`: it can.
    pub unadoptable: Option<&'static str>,
}

/// For kinds whose settings need no check beyond their names.
pub fn any_setting(_: &str, _: &Value) -> Result<(), String> {
    Ok(())
}

impl KindSupport {
    /// A kind whose every attribute can change in place, right away.
    pub const fn plain(kind: &'static str) -> KindSupport {
        KindSupport {
            kind,
            replace_on: &[],
            restart_on: &[],
            write_only: &[],
            identity: None,
            settings: &[],
            settings_in_place: &[],
            check_setting: any_setting,
            unadoptable: None,
        }
    }
}

#[derive(Debug)]
pub struct Setting {
    pub name: &'static str,
    pub required: bool,
    /// Must be a reference (`env:NAME` or `file:PATH`), never a literal.
    pub secret: bool,
    pub help: &'static str,
}

impl Setting {
    pub const fn required(name: &'static str, help: &'static str) -> Setting {
        Setting {
            name,
            required: true,
            secret: false,
            help,
        }
    }

    pub const fn optional(name: &'static str, help: &'static str) -> Setting {
        Setting {
            name,
            required: false,
            secret: false,
            help,
        }
    }

    /// A required secret: its value must be a reference (`env:NAME`, `file:PATH`).
    pub const fn secret(name: &'static str, help: &'static str) -> Setting {
        Setting {
            name,
            required: true,
            secret: true,
            help,
        }
    }
}

/// One problem with a provider's settings or a resource, by the key it is about
/// (a setting or attribute name; `None` for the whole table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: Option<String>,
    pub message: String,
}

impl Finding {
    pub fn at(key: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            key: Some(key.into()),
            message: message.into(),
        }
    }

    pub fn whole(message: impl Into<String>) -> Finding {
        Finding {
            key: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{k}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A provider's settings as a serde struct. Checks across fields (or beyond what
/// serde's types say) go in `check`.
pub trait Settings: DeserializeOwned {
    /// `project`: the project directory, which relative directory settings are below.
    fn check(&self, _project: &Path) -> Vec<Finding> {
        Vec::new()
    }
}

/// Parse a `[providers.NAME]` table into `T`; the first problem, by setting name.
pub fn parse_settings<T: Settings>(attrs: &Attrs, project: &Path) -> Result<T, Finding> {
    let settings: T = deserialize(attrs)?;
    match settings.check(project).into_iter().next() {
        Some(f) => Err(f),
        None => Ok(settings),
    }
}

/// `ProviderInfo::check_settings` for a provider whose settings are `T`.
pub fn check_settings<T: Settings>(attrs: &Attrs, project: &Path) -> Vec<Finding> {
    match deserialize::<T>(attrs) {
        Ok(s) => s.check(project),
        Err(f) => vec![f],
    }
}

/// The table as `T`; a type error names the setting it is about.
fn deserialize<T: DeserializeOwned>(attrs: &Attrs) -> Result<T, Finding> {
    let table = Value::Object(attrs.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    serde_path_to_error::deserialize(table).map_err(|e| Finding {
        key: e.path().iter().next().map(|s| s.to_string()),
        message: e.into_inner().to_string(),
    })
}

/// A provider's audit of one resource.
pub type AuditFn = fn(&Desired, &Context) -> Vec<Finding>;

/// A secret setting as written: a reference (`env:NAME`, `file:PATH`), never the
/// value. Resolved only when the provider is built.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct SecretRef(String);

impl TryFrom<String> for SecretRef {
    type Error = String;
    fn try_from(s: String) -> Result<SecretRef, String> {
        if is_secret_ref(&s) {
            Ok(SecretRef(s))
        } else {
            Err("a secret must be a reference (env:NAME or file:/path), not a literal value".into())
        }
    }
}

impl SecretRef {
    /// The reference as written (`env:NAME`), safe to show.
    pub fn reference(&self) -> &str {
        &self.0
    }

    pub fn resolve(&self) -> Result<crate::Secret, String> {
        crate::Secret::resolve(&self.0)
    }
}

/// An `http://` or `https://` URL setting, without a trailing slash.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct HttpUrl(String);

impl TryFrom<String> for HttpUrl {
    type Error = String;
    fn try_from(s: String) -> Result<HttpUrl, String> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or_else(|| format!("{s:?} is not an http:// or https:// URL"))?;
        if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
            return Err(format!("{s:?} names no host"));
        }
        Ok(HttpUrl(s.trim_end_matches('/').to_string()))
    }
}

impl HttpUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One name or a list of names (`zones = "example.com"` or `zones = [...]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged, expecting = "a string or a list of strings")]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}
