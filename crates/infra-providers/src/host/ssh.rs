//! The SSH transport: the system `ssh` client, one round trip per operation.
//!
//! Every remote operation is a fixed POSIX `sh -c` script (one line, so any login
//! shell passes it on) whose arguments are single-quoted; no name, path or value
//! is ever spliced into script text. File contents travel as base64 inside
//! NUL-separated records, so any byte in a name or a file is safe.

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::{CmdOutput, Depth, Entry, WriteOpts, OP_TIMEOUT, SSH_COMMAND_ENV};
use infra_kit::{ProviderError, Result};

/// Emit one record per file argument: name NUL mode NUL base64 NUL.
const RECORDS: &str = r#"for f in "$@"; do n=${f#./}; md=$(stat -c %a -- "$f") || exit 4; b=$(base64 < "$f") || exit 4; printf "%s\0%s\0" "$n" "$md"; printf "%s" "$b" | tr -d "\n"; printf "\0"; done"#;

/// `nolink BASE REL`: exit 6 if any component of REL below BASE is a symlink.
/// Checked on the host itself, just before the operation.
const NOLINK: &str = r#"nolink() { p=$1; IFS=/; set -f; for c in $2; do [ -n "$c" ] || continue; p="$p/$c"; if [ -L "$p" ]; then echo "$p is a symbolic link; infra does not follow links below its root" >&2; exit 6; fi; done; unset IFS; set +f; }; "#;

/// `$1` base, `$2` directory below it, `$3` depth.
fn list_script() -> String {
    format!(
        r#"{NOLINK}nolink "$1" "$2"; d="$1/$2"; [ -e "$d" ] || exit 0; cd -- "$d" || exit 3; find . -maxdepth "$3" -type f -exec sh -c '{RECORDS}' sh {{}} +"#
    )
}

/// `$1` base, `$2` file below it.
fn read_script() -> String {
    format!(
        r#"{NOLINK}nolink "$1" "$2"; f="$1/$2"; [ -e "$f" ] || exit 0; [ -f "$f" ] || {{ echo "$f exists and is not a regular file" >&2; exit 5; }}; cd -- "$(dirname -- "$f")" || exit 3; set -- "$(basename -- "$f")"; {RECORDS}"#
    )
}

/// `$1` base, `$2` file below it, `$3` mode, `$4` 1 to create directories.
fn write_script() -> String {
    format!(
        r#"{NOLINK}r=$(dirname -- "$2"); b=$(basename -- "$2"); nolink "$1" "$r"; d="$1/$r"; if [ "$4" = 1 ]; then mkdir -p -- "$d" || exit 1; nolink "$1" "$r"; fi; t="$d/.$b.tmp.$$"; rm -f -- "$t"; if [ -L "$d/$b" ] || [ -d "$d/$b" ]; then echo "$d/$b is a symbolic link or a directory; infra writes only regular files" >&2; exit 6; fi; if (umask 077; set -C; cat > "$t") && chmod "$3" "$t" && mv -f -- "$t" "$d/$b"; then exit 0; fi; rm -f -- "$t"; exit 1"#
    )
}

/// `$1` base, `$2` file below it.
fn remove_script() -> String {
    format!(r#"{NOLINK}nolink "$1" "$(dirname -- "$2")"; rm -f -- "$1/$2""#)
}

/// `$1` target, `$2` base, `$3` link below it.
fn symlink_script() -> String {
    format!(r#"{NOLINK}nolink "$2" "$(dirname -- "$3")"; ln -sfn -- "$1" "$2/$3""#)
}

/// `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssh {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The ssh program and its options (`INFRA_SSH_COMMAND`, default `ssh`).
    command: Vec<String>,
}

impl Ssh {
    pub fn parse(url: &str) -> std::result::Result<Ssh, String> {
        let bad = |why: &str| format!("host `{url}`: {why} (write host = \"ssh://user@host:22\")");
        let rest = url
            .strip_prefix("ssh://")
            .ok_or_else(|| bad("only ssh:// hosts are supported"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        if let Some(u) = user {
            if u.is_empty()
                || u.starts_with('-')
                || !u
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(bad("the user name has characters ssh does not take"));
            }
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty()
            || host.starts_with('-')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        {
            return Err(bad("not a host name or address"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
            ),
        };
        let command = std::env::var(SSH_COMMAND_ENV)
            .ok()
            .map(|s| s.split_whitespace().map(String::from).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| vec!["ssh".to_string()]);
        Ok(Ssh {
            user: user.map(String::from),
            host: host.to_string(),
            port,
            command,
        })
    }

    /// `user@host` (with `:port` if given), for messages.
    pub fn destination(&self) -> String {
        let mut s = String::new();
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        if self.host.contains(':') {
            s.push_str(&format!("[{}]", self.host));
        } else {
            s.push_str(&self.host);
        }
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s
    }

    /// The full ssh argv for one remote command line.
    fn argv(&self, remote: &str) -> Vec<String> {
        let mut v = self.command.clone();
        for o in ["BatchMode=yes", "ConnectTimeout=10", "LogLevel=ERROR"] {
            v.push("-o".into());
            v.push(o.into());
        }
        v.push("-T".into());
        if let Some(p) = self.port {
            v.push("-p".into());
            v.push(p.to_string());
        }
        if let Some(u) = &self.user {
            v.push("-l".into());
            v.push(u.clone());
        }
        v.push("--".into());
        v.push(self.host.clone());
        v.push(remote.to_string());
        v
    }

    /// Run one remote command line; ssh's own failures (exit 255) become errors,
    /// the remote command's exit status is returned.
    async fn exec(
        &self,
        remote: &str,
        stdin: Option<&[u8]>,
    ) -> Result<(Option<i32>, Vec<u8>, String)> {
        let argv = self.argv(remote);
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let work = async {
            let mut child = cmd
                .spawn()
                .map_err(|e| ProviderError::rejected(format!("cannot run `{}`: {e}", argv[0])))?;
            if let Some(data) = stdin {
                let mut pipe = child.stdin.take().expect("stdin is piped");
                // A failed write shows up as the remote command's failure below.
                let _ = pipe.write_all(data).await;
                drop(pipe);
            }
            child
                .wait_with_output()
                .await
                .map_err(|e| ProviderError::rejected(format!("ssh: {e}")))
        };
        let out = match tokio::time::timeout(OP_TIMEOUT, work).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ProviderError::Transient {
                    message: format!(
                        "ssh {}: no answer within {OP_TIMEOUT:?}",
                        self.destination()
                    ),
                    retry_after: None,
                })
            }
        };
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if out.status.code() == Some(255) {
            let msg = format!("ssh {}: {stderr}", self.destination());
            let auth = [
                "Permission denied",
                "Host key verification failed",
                "Too many authentication failures",
                "REMOTE HOST IDENTIFICATION HAS CHANGED",
            ];
            return Err(if auth.iter().any(|a| stderr.contains(a)) {
                ProviderError::Auth(msg)
            } else {
                ProviderError::Transient {
                    message: msg,
                    retry_after: None,
                }
            });
        }
        Ok((out.status.code(), out.stdout, stderr))
    }

    /// Run a fixed script with quoted arguments; any non-zero exit is an error.
    async fn script(
        &self,
        script: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
        what: &str,
    ) -> Result<Vec<u8>> {
        let mut line = format!("sh -c {} sh", quote(script));
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let (code, stdout, stderr) = self.exec(&line, stdin).await?;
        if code != Some(0) {
            return Err(ProviderError::rejected(format!(
                "{what} on {}: {}",
                self.destination(),
                if stderr.is_empty() {
                    format!("remote exit status {code:?}")
                } else {
                    stderr
                }
            )));
        }
        Ok(stdout)
    }

    pub async fn read(&self, base: &Path, rel: &Path) -> Result<Option<Entry>> {
        let (b, r) = (path_str(base)?, rel_str(rel)?);
        let what = format!("reading {b}/{r}");
        let out = self.script(&read_script(), &[b, r], None, &what).await?;
        Ok(parse_records(&out)?.into_iter().next())
    }

    pub async fn write(&self, base: &Path, rel: &Path, data: &[u8], opts: WriteOpts) -> Result<()> {
        let (b, r) = (path_str(base)?, rel_str(rel)?);
        let mode = format!("{:04o}", opts.mode);
        let mk = if opts.create_dirs { "1" } else { "0" };
        let what = format!("writing {b}/{r}");
        self.script(&write_script(), &[b, r, &mode, mk], Some(data), &what)
            .await
            .map(drop)
    }

    pub async fn remove(&self, base: &Path, rel: &Path) -> Result<()> {
        let (b, r) = (path_str(base)?, rel_str(rel)?);
        let what = format!("removing {b}/{r}");
        self.script(&remove_script(), &[b, r], None, &what)
            .await
            .map(drop)
    }

    pub async fn list(&self, base: &Path, dir: &Path, depth: Depth) -> Result<Vec<Entry>> {
        let (b, d) = (path_str(base)?, rel_str(dir)?);
        let max = match depth {
            Depth::Flat => "1",
            Depth::Recursive => "64",
        };
        let what = format!("listing {b}/{d}");
        let out = self
            .script(&list_script(), &[b, d, max], None, &what)
            .await?;
        parse_records(&out)
    }

    pub async fn symlink(&self, base: &Path, target: &Path, rel: &Path) -> Result<()> {
        let (t, b, r) = (path_str(target)?, path_str(base)?, rel_str(rel)?);
        let what = format!("linking {b}/{r}");
        self.script(&symlink_script(), &[t, b, r], None, &what)
            .await
            .map(drop)
    }

    pub async fn run(&self, argv: &[String]) -> Result<CmdOutput> {
        let line: Vec<String> = argv.iter().map(|a| quote(a)).collect();
        let (code, stdout, stderr) = self.exec(&line.join(" "), None).await?;
        Ok(CmdOutput {
            code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr,
        })
    }
}

/// A path below a remote root: relative, no `..`, UTF-8.
fn rel_str(rel: &Path) -> Result<&str> {
    rel.to_str()
        .filter(|s| !s.starts_with('/') && !s.split('/').any(|c| c == ".."))
        .ok_or_else(|| {
            ProviderError::rejected(format!(
                "{} must stay below the root (relative UTF-8, no `..`)",
                rel.display()
            ))
        })
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().filter(|s| s.starts_with('/')).ok_or_else(|| {
        ProviderError::rejected(format!(
            "remote path {} must be absolute UTF-8",
            path.display()
        ))
    })
}

/// Single-quote for a POSIX shell: `it's` → `'it'\''s'`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// NUL-separated records of (name, octal mode, base64 content).
fn parse_records(out: &[u8]) -> Result<Vec<Entry>> {
    let bad = || ProviderError::rejected("ssh: unreadable listing from the remote host");
    let mut fields: Vec<&[u8]> = out.split(|b| *b == 0).collect();
    if fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    if !fields.len().is_multiple_of(3) {
        return Err(bad());
    }
    fields
        .chunks(3)
        .map(|r| {
            let name = String::from_utf8_lossy(r[0]).into_owned();
            let mode = std::str::from_utf8(r[1])
                .ok()
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
                .ok_or_else(bad)?;
            let data = base64_decode(r[2]).ok_or_else(bad)?;
            Ok(Entry { name, mode, data })
        })
        .collect()
}

/// Standard base64 with padding (what coreutils `base64` prints).
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s: Vec<u8> = s
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for chunk in s.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { val(*c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}
