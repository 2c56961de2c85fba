//! A private OpenSSH server (LAB.md §5) on 127.0.0.1, and a client config for it.
//!
//! Host key, client key, authorized_keys, sshd_config and the client's
//! `ssh_config` + `known_hosts` all live in one temp dir. The host key is in
//! known_hosts from the start, so the client checks it strictly (no
//! trust-on-first-use). OpenSSH reads `~/.ssh/config` from the passwd home
//! directory, not `$HOME`, so a sealed test HOME cannot carry the config:
//! infra is pointed at it with `INFRA_SSH_COMMAND="ssh -F …"` (`env()`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{free_port, port_open, Process};

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    process: Process,
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for key in ["host_ed25519", "client_ed25519"] {
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))
                .output()
                .expect("ssh-keygen (openssh-client) is installed");
            assert!(
                out.status.success(),
                "ssh-keygen: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let p = d.display();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {p}/host_ed25519\nPidFile {p}/sshd.pid\n\
                 AuthorizedKeysFile {p}/authorized_keys\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n\
                 UsePAM no\nMaxStartups 200\nMaxSessions 200\n"
            ),
        )
        .unwrap();
        let user = current_user();
        let host_pub = std::fs::read_to_string(d.join("host_ed25519.pub")).unwrap();
        let key = host_pub
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        std::fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {key}\n")).unwrap();
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {p}/client_ed25519\n  IdentitiesOnly yes\n\
                 \x20 UserKnownHostsFile {p}/known_hosts\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n"
            ),
        )
        .unwrap();
        // The privilege-separation directory; sshd refuses to start without it.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let mut cmd = Command::new("/usr/sbin/sshd");
        cmd.args(["-D", "-e", "-f"]).arg(d.join("sshd_config"));
        let mut process = Process::spawn("sshd", cmd, &d.join("sshd.log"));
        process.wait_until(Duration::from_secs(10), || port_open(port));
        Sshd {
            dir,
            port,
            user,
            process,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    /// The value for `INFRA_SSH_COMMAND`.
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.config().display())
    }

    /// The provider `host` setting.
    pub fn host_url(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", self.user, self.port)
    }

    /// Environment for infra runs that use this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("INFRA_SSH_COMMAND".into(), self.ssh_command())]
    }

    /// Run a command over ssh as the client would (for test setup and checks).
    pub fn ssh(&self, remote: &str) -> std::process::Output {
        Command::new("ssh")
            .arg("-F")
            .arg(self.config())
            .args(["-o", "BatchMode=yes", "127.0.0.1", remote])
            .output()
            .unwrap()
    }

    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
