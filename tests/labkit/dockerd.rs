//! A private Docker Engine for one test: dockerd with its data root, exec root,
//! pid file and unix socket under one temp directory, stopped on drop.
//!
//! Networking stays off the host's ranges: `--bridge=none --iptables=false
//! --ip6tables=false --ip-forward=false --ip-masq=false`, so no docker0 bridge,
//! no 172.17.0.0/16, no firewall rules and no sysctl change; tests run containers
//! with host networking and bind services to 127.x. Several engines run at once
//! without a lock: each dockerd starts its own containerd under its exec root (and
//! uses its own containerd namespaces, in case a system containerd is found at
//! /run/containerd, which dockerd would otherwise share). Images come only from
//! `docker import` of a busybox-static root file system: there is no registry.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The test image, imported by [`Dockerd::import_busybox`]: /bin/busybox with
/// `sh`, `httpd` and `sleep` links, and /www/index.html.
pub const BUSYBOX: &str = "infra-test/busybox:1";

static STARTED: AtomicUsize = AtomicUsize::new(0);

pub struct Dockerd {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    namespace: String,
}

impl Dockerd {
    /// Start an engine in a new temp directory; ready when `GET /_ping` answers.
    pub fn start() -> Dockerd {
        // Short paths: containerd's socket lives under the exec root and unix socket
        // paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dkd")
            .tempdir_in("/tmp")
            .unwrap();
        let n = STARTED.fetch_add(1, Ordering::SeqCst);
        let namespace = format!("infra-test-{}-{n}", std::process::id());
        let mut d = Dockerd {
            dir,
            child: None,
            namespace,
        };
        d.restart();
        d
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// `unix:///…/docker.sock`, for DOCKER_HOST or the provider's `socket` setting.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Start (again) on the same data root; waits until the engine answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "dockerd is already running");
        let k = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(k.join("dockerd.log"))
            .unwrap();
        let mut cmd = Command::new("dockerd");
        cmd.arg("--data-root")
            .arg(k.join("data"))
            .arg("--exec-root")
            .arg(k.join("exec"))
            .arg("--pidfile")
            .arg(k.join("docker.pid"))
            .arg("-H")
            .arg(self.host())
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                // Containers whose PID 1 ignores SIGTERM (busybox sleep) would hold
                // a shutdown for the default 15 s.
                "--shutdown-timeout=1",
            ])
            .arg(format!("--containerd-namespace={}", self.namespace))
            .arg(format!(
                "--containerd-plugins-namespace={}-plugins",
                self.namespace
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start dockerd: {e} (tests/run-all.sh installs docker.io)")
        });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                panic!(
                    "dockerd exited while starting ({status}):\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("dockerd not ready after 30 s:\n{}", self.log_text());
    }

    /// Does the engine answer `GET /_ping` with `OK`?
    pub fn ping(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(self.socket()) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
    }

    /// SIGTERM and wait (containers are stopped by dockerd within --shutdown-timeout);
    /// SIGKILL for dockerd and its containerd after 30 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                self.unmount_leftovers();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        let pidfile = self.dir.path().join("exec/containerd/containerd.pid");
        if let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        self.unmount_leftovers();
    }

    /// dockerd leaves `exec/netns/default` (a bind mount of the host's network
    /// namespace) mounted after it exits; detach what is mounted under our own
    /// directory so the temp dir can be removed.
    fn unmount_leftovers(&self) {
        let prefix = format!("{}/", self.dir.path().display());
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut ours: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        // Deepest first.
        ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in ours {
            let c = std::ffi::CString::new(m).unwrap();
            unsafe {
                libc::umount2(c.as_ptr(), libc::MNT_DETACH);
            }
        }
    }

    /// The docker CLI against this engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.path().join("cli"))
            .stdin(Stdio::null())
            .output()
            .expect("run the docker CLI")
    }

    /// The docker CLI; panics with its output unless it succeeds; returns stdout.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Import the busybox test image under `tag` (see [`BUSYBOX`]).
    pub fn import_busybox(&self, tag: &str) {
        let tar = busybox_tar(self.dir.path());
        self.docker_ok(&["import", tar.to_str().unwrap(), tag]);
    }

    /// Names of every container, running or not.
    pub fn container_names(&self) -> Vec<String> {
        self.docker_ok(&["ps", "-a", "--format", "{{.Names}}"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Remove every container on this engine (force: no stop timeout).
    pub fn remove_all_containers(&self) {
        let ids = self.docker_ok(&["ps", "-aq"]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids);
            self.docker_ok(&args);
        }
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if self.running() && self.ping() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.remove_all_containers()
            }));
        }
        self.stop();
    }
}

/// A tar of a root file system with a static busybox, built once per directory.
pub fn busybox_tar(dir: &Path) -> PathBuf {
    let tar = dir.join("busybox-rootfs.tar");
    if tar.exists() {
        return tar;
    }
    let root = dir.join("busybox-rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("www")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))
        .expect("/bin/busybox (install busybox-static: Debian's busybox is dynamic)");
    for link in ["sh", "httpd", "sleep"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(link)).unwrap();
    }
    std::fs::write(root.join("www/index.html"), "hello-from-container\n").unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["-cf"])
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar failed");
    tar
}
