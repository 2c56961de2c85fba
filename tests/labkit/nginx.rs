//! A private nginx (LAB.md §1) and a tiny HTTP upstream, both on 127.0.0.1.
//!
//! nginx runs in the foreground with every path under one temp dir: `nginx.conf`
//! includes `conf.d/*.conf` (the provider's sites_dir), and a default server on
//! the same port answers 404 so readiness can be checked before any site exists.
//! Dropping the guard sends QUIT (graceful stop) and waits.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{free_port, http_get, port_open, Process};

pub struct Nginx {
    pub dir: tempfile::TempDir,
    pub port: u16,
    process: Process,
}

impl Nginx {
    pub fn start() -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Workers run as nobody when nginx starts as root: let them into the tree.
        for sub in ["conf.d", "logs", "tmp"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        set_mode(d, 0o755);
        set_mode(&d.join("tmp"), 0o777);
        let port = free_port();
        let p = d.display();
        let conf = format!(
            "worker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log info;\n\
             worker_shutdown_timeout 1s;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {p}/logs/access.log;\n\
             \x20 client_body_temp_path {p}/tmp/body; proxy_temp_path {p}/tmp/proxy;\n\
             \x20 fastcgi_temp_path {p}/tmp/fcgi; uwsgi_temp_path {p}/tmp/uwsgi; scgi_temp_path {p}/tmp/scgi;\n\
             \x20 server {{ listen 127.0.0.1:{port} default_server; server_name _; return 404; }}\n\
             \x20 include {p}/conf.d/*.conf;\n}}\n"
        );
        std::fs::write(d.join("nginx.conf"), conf).unwrap();
        let nginx = Nginx::binary();
        let mut cmd = Command::new(&nginx);
        cmd.args(Nginx::args(d)).args(["-g", "daemon off;"]);
        let mut process = Process::spawn("nginx", cmd, &d.join("logs/stderr.log"));
        process.wait_until(Duration::from_secs(10), || port_open(port));
        Nginx { dir, port, process }
    }

    fn binary() -> String {
        if Path::new("/usr/sbin/nginx").exists() {
            "/usr/sbin/nginx".into()
        } else {
            "nginx".into()
        }
    }

    fn args(d: &Path) -> Vec<String> {
        vec![
            "-p".into(),
            format!("{}/", d.display()),
            "-c".into(),
            d.join("nginx.conf").display().to_string(),
            "-e".into(),
            d.join("logs/error.log").display().to_string(),
        ]
    }

    /// The `nginx` setting for the provider: a command prefix with this instance's paths.
    pub fn command(&self) -> String {
        let mut v = vec![Nginx::binary()];
        v.extend(Nginx::args(self.dir.path()));
        v.join(" ")
    }

    /// The sites directory nginx includes.
    pub fn conf_d(&self) -> PathBuf {
        self.dir.path().join("conf.d")
    }

    /// The last 30 lines of nginx's error log.
    pub fn error_log(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("logs/error.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// GET `path` with `Host: host` through nginx.
    pub fn get(&self, host: &str, path: &str) -> Option<(u16, String)> {
        http_get(self.port, path, &[("Host", host)])
    }

    /// Poll (every 50 ms, at most `timeout`) until a request for `host` answers
    /// with a body containing `needle`; reloads are asynchronous.
    pub fn wait_for(&self, host: &str, needle: &str, timeout: Duration) -> Option<(u16, String)> {
        // A reload is asynchronous: old workers may still take a connection or two
        // after a new one answered, so the answer must hold for several polls.
        let deadline = Instant::now() + timeout;
        let mut last = None;
        let mut in_a_row = 0;
        while Instant::now() < deadline {
            last = self.get(host, "/");
            if last.as_ref().is_some_and(|(_, b)| b.contains(needle)) {
                in_a_row += 1;
                if in_a_row == 5 {
                    return last;
                }
            } else {
                in_a_row = 0;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no answer containing {needle:?} for Host {host} within {timeout:?}; last: {last:?}\nerror log:\n{}",
            self.error_log()
        );
    }

    /// Stop nginx now (for "nginx is down" tests).
    pub fn stop(&mut self) {
        self.quit();
        self.process.stop();
    }

    fn quit(&mut self) {
        let pid = self.process.pid();
        if pid == 0 || self.process.exited() {
            return;
        }
        unsafe {
            libc::kill(pid as i32, libc::SIGQUIT);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !self.process.exited() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Graceful first; `Process`'s own drop then reaps (or kills) it.
        self.quit();
    }
}

/// `python3 -m http.server` on a free port, serving one `index.html`.
pub struct Upstream {
    pub dir: tempfile::TempDir,
    pub port: u16,
    process: Process,
}

impl Upstream {
    pub fn start(body: &str) -> Upstream {
        Upstream::start_at("127.0.0.1", free_port(), body)
    }

    /// Listening on `addr:port`, e.g. the loopback address a fake container was given.
    pub fn start_at(addr: &str, port: u16, body: &str) -> Upstream {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), body).unwrap();
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "http.server", "--bind", addr, &port.to_string()])
            .current_dir(dir.path());
        let log = dir.path().join("server.log");
        let mut process = Process::spawn("python3 -m http.server", cmd, &log);
        let target = format!("{addr}:{port}");
        process.wait_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(&target).is_ok()
        });
        Upstream { dir, port, process }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.process.stop();
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
