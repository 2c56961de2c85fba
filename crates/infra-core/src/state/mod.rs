//! Recorded live state: `.infra/state.json` (committed) plus a crash journal.
//!
//! The state file is rewritten atomically and deterministically (sorted keys, pretty
//! JSON) so git diffs stay minimal. During an apply every finished operation is
//! appended to `.infra/journal.jsonl` and fsynced before the next one starts; the
//! journal is folded into the state file at the end. If the process dies, the next
//! command replays the journal, so no finished operation is ever forgotten.
//! State never holds secrets: providers return attributes, never credentials.

pub mod journal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::Attrs;

pub const STATE_DIR: &str = ".infra";
pub const STATE_FILE: &str = ".infra/state.json";
pub const JOURNAL_FILE: &str = ".infra/journal.jsonl";
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: state file is not valid: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: state format version {found} is not supported (this infra reads version {STATE_VERSION})")]
    Version { path: PathBuf, found: u32 },
}

impl StateError {
    pub fn help(&self) -> &'static str {
        use std::io::ErrorKind;
        match self {
            StateError::Io { source, .. } => match source.kind() {
                ErrorKind::PermissionDenied => "check the file's permissions",
                ErrorKind::InvalidData | ErrorKind::FileTooLarge => {
                    "infra keeps this file as a regular file it wrote: restore it from git (`git checkout -- .infra/state.json`), or remove a journal left there"
                }
                _ => "check the file and the disk it is on",
            },
            StateError::Corrupt { .. } => {
                "the state was edited by hand or damaged: restore it from git (`git checkout -- .infra/state.json`) or fix the JSON"
            }
            StateError::Version { .. } => "use the infra version that wrote this state",
        }
    }
}

/// What infra recorded about one object it manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub kind: String,
    /// Provider instance name.
    pub provider: String,
    /// The provider's id for the object.
    pub id: String,
    pub attrs: Attrs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The per-resource provider settings (`[KIND.NAME.PROVIDER]`) it was last
    /// created or updated with; `None` where unknown (imported, adopted, or a
    /// provider without such settings), and then never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Attrs>,
    /// Recorded by `infra adopt` without infra's ownership marker in the object:
    /// the next apply writes the marker; until then it is never deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unmarked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Identifies this project's state across its history; a saved plan from another lineage is refused.
    pub lineage: String,
    /// Increases with every change; a saved plan made at another serial is stale.
    pub serial: u64,
    pub resources: BTreeMap<String, ResourceState>,
}

impl State {
    pub fn new() -> State {
        State {
            version: STATE_VERSION,
            lineage: new_lineage(),
            serial: 0,
            resources: BTreeMap::new(),
        }
    }

    /// Deterministic serialisation: sorted keys, two-space indent, trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("state serialises");
        s.push('\n');
        s
    }

    pub fn parse(path: &Path, text: &str) -> Result<State, StateError> {
        // Straight into the typed state: going through a `serde_json::Value` first
        // doubled the cost for 10,000 resources.
        let corrupt = |e: serde_json::Error| StateError::Corrupt {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let version = |found: u64| StateError::Version {
            path: path.into(),
            found: found as u32,
        };
        match serde_json::from_str::<State>(text) {
            Ok(state) if state.version != STATE_VERSION => Err(version(state.version.into())),
            Ok(state) => Ok(state),
            // A newer format gets a version error, not a parse error.
            Err(e) => match serde_json::from_str::<VersionOnly>(text) {
                Ok(VersionOnly { version: Some(v) }) if v != STATE_VERSION as u64 => {
                    Err(version(v))
                }
                _ => Err(corrupt(e)),
            },
        }
    }
}

/// Just the version of a state file that did not parse as this version's format.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    version: Option<u64>,
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

fn new_lineage() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("{nanos}-{}-{:p}", std::process::id(), &nanos);
    crate::util::sha256_hex(seed.as_bytes())[..16].to_string()
}

/// The state of a project directory: the file plus any journal left by an interrupted apply.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub state: State,
    /// Journal entries replayed on top of the file (non-zero after a crash).
    pub replayed: usize,
}

impl Loaded {
    /// Serial as seen by plans: moves with every journaled operation too.
    pub fn effective_serial(&self) -> u64 {
        self.state.serial + self.replayed as u64
    }
}

/// Largest state file infra reads (100,000 resources are well below it).
pub const MAX_STATE_BYTES: u64 = 512 * 1024 * 1024;

/// The state's text, or where it stops being UTF-8 (line and column).
fn utf8(bytes: Vec<u8>) -> Result<String, StateError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        StateError::Corrupt {
            path: PathBuf::from(STATE_FILE),
            line,
            column,
            message: "not valid UTF-8 (bytes that are not text)".into(),
        }
    })
}

/// Read the state (a missing file is an empty state) and replay the journal.
pub fn load(root: &Path) -> Result<Loaded, StateError> {
    let path = root.join(STATE_FILE);
    let mut state = match crate::beneath::read_regular(&path, MAX_STATE_BYTES) {
        Ok(Some(bytes)) => State::parse(Path::new(STATE_FILE), &utf8(bytes)?)?,
        // No state yet: an empty lineage, assigned when the state is first written,
        // so a plan saved before the first apply still matches.
        Ok(None) => State {
            lineage: String::new(),
            ..State::new()
        },
        Err(e) => {
            return Err(StateError::Io {
                path: path.clone(),
                source: e,
            })
        }
    };
    let replayed =
        journal::replay(&root.join(JOURNAL_FILE), &mut state).map_err(|e| StateError::Io {
            path: root.join(JOURNAL_FILE),
            source: e,
        })?;
    Ok(Loaded { state, replayed })
}

/// Write the state file atomically and drop the journal it now contains.
pub fn save(root: &Path, state: &State) -> std::io::Result<()> {
    fs_err::create_dir_all(root.join(STATE_DIR))?;
    let text = if state.lineage.is_empty() {
        State {
            lineage: new_lineage(),
            ..state.clone()
        }
        .to_json()
    } else {
        state.to_json()
    };
    // Through `beneath`: the temp file is never opened through a planted link.
    let dir = crate::beneath::Beneath::open(&root.join(STATE_DIR))?;
    let name = Path::new(STATE_FILE)
        .file_name()
        .expect("state file has a name");
    dir.write(Path::new(name), text.as_bytes(), 0o644, false)?;
    crate::util::kill_point("state:saved");
    match fs_err::remove_file(root.join(JOURNAL_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_state_names_line_and_column() {
        let err = State::parse(
            Path::new(".infra/state.json"),
            "{\n  \"version\": 1,\n  \"lineage\": oops\n}",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(".infra/state.json:3:"), "{msg}");
    }

    #[test]
    fn newer_version_is_refused() {
        let err = State::parse(
            Path::new("s.json"),
            r#"{"version": 9, "lineage": "x", "serial": 1, "resources": {}}"#,
        )
        .unwrap_err();
        assert!(matches!(err, StateError::Version { found: 9, .. }));
    }

    #[test]
    fn serialisation_is_deterministic() {
        let mut s = State::new();
        s.resources.insert(
            "file.b".into(),
            ResourceState {
                kind: "file".into(),
                provider: "f".into(),
                id: "b".into(),
                attrs: Attrs::new(),
                depends_on: vec![],
                group: None,
                settings: None,
                unmarked: false,
            },
        );
        s.resources.insert(
            "file.a".into(),
            ResourceState {
                kind: "file".into(),
                provider: "f".into(),
                id: "a".into(),
                attrs: Attrs::new(),
                depends_on: vec![],
                group: None,
                settings: None,
                unmarked: false,
            },
        );
        let json = s.to_json();
        assert!(json.find("file.a").unwrap() < json.find("file.b").unwrap());
        assert_eq!(State::parse(Path::new("s"), &json).unwrap(), s);
    }
}
