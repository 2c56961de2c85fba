//! A sealed environment for running the real `infra` binary: temp project dir,
//! temp HOME, no global git config, fixed git identity and dates, no colour.
#![allow(dead_code)]

pub mod schema;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panics with the whole output unless the exit code matches.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A project with one provider per kind (none reached: `ask` and
/// `plan --refresh=false` never contact them) and an address pool.
pub const LAB_INFRA_TOML: &str = r#"[project]
name = "lab"
domain = "lab.example.com"

[providers.engine]
kind = "docker"

[providers.dns]
kind = "powerdns"
api_url = "http://127.0.0.1:8081"
api_key = "env:PDNS_API_KEY"

[providers.edge]
kind = "nginx"
sites_dir = "/etc/nginx/conf.d"

[providers.mon]
kind = "prometheus"
targets_dir = "/etc/prometheus/targets"

[pools.lan]
cidr = "10.20.0.0/24"
range = "10.20.0.50-10.20.0.99"
gateway = "10.20.0.1"
"#;

/// The binary under test: `INFRA_TEST_BIN` if set (a copy taken right after the
/// build, for machines where several checkouts share one target directory), else
/// the one cargo built.
pub fn infra_bin() -> PathBuf {
    std::env::var_os("INFRA_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_infra")))
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `program` in this environment: the project as working directory, a
    /// temp HOME, no global git config, a fixed identity, no colour.
    pub fn sealed(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test User")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test User")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .env("GIT_AUTHOR_DATE", "1764115200 +0000")
            .env("GIT_COMMITTER_DATE", "1764115200 +0000")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        c
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.sealed(&infra_bin());
        c.args(args);
        c
    }

    /// Runs infra; a spec it accepted is checked against `infra schema` too.
    pub fn infra(&self, args: &[&str]) -> Run {
        let run = Run::from(self.cmd(args).output().expect("run infra"));
        schema::check_accepted(self.path(), args, run.code);
        run
    }

    /// infra with secrets in its environment, as `(NAME, value)`: no value may
    /// appear in what it prints. `INFRA_TEST_SHOW=1` prints every command and its output.
    pub fn infra_with_secrets(&self, args: &[&str], secrets: &[(&str, &str)]) -> Run {
        let mut cmd = self.cmd(args);
        for (name, value) in secrets {
            cmd.env(name, value);
        }
        let run = Run::from(cmd.output().expect("run infra"));
        schema::check_accepted(self.path(), args, run.code);
        // Shown (on failure or on request) with every secret masked.
        let masked = secrets
            .iter()
            .fold(run.all(), |text, (_, value)| text.replace(value, "***"));
        if std::env::var_os("INFRA_TEST_SHOW").is_some() {
            eprintln!("$ infra {}\n{masked}", args.join(" "));
        }
        for (name, value) in secrets {
            assert!(
                !run.all().contains(value),
                "the secret in {name} leaked into the output of infra {args:?} (shown as ***):\n{masked}"
            );
        }
        run
    }

    pub fn git(&self, args: &[&str]) -> Run {
        let r = Run::from(
            self.sealed(Path::new("git"))
                .args(args)
                .output()
                .expect("run git"),
        );
        assert_eq!(r.code, 0, "git {args:?} failed: {}", r.stderr);
        r
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.p(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.p(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.p(rel).exists()
    }

    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
    }

    /// `infra init --example local`, committed.
    pub fn example() -> TestEnv {
        let env = TestEnv::new();
        env.infra(&["init", "--example", "local"]).expect(0);
        env.commit_all("example");
        env
    }

    /// A project with one file provider and the given resources TOML, committed.
    pub fn with_resources(resources: &str) -> TestEnv {
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write(
            "infra.toml",
            "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n",
        );
        env.write(".gitignore", "/out/\n.infra/lock\n.infra/journal.jsonl\n");
        env.write("infra/main.toml", resources);
        env.commit_all("spec");
        env
    }

    /// A git repository with `LAB_INFRA_TOML` (plus `extra`) committed.
    pub fn lab(extra: &str) -> TestEnv {
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.write("infra.toml", &format!("{LAB_INFRA_TOML}{extra}"));
        env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
        env.commit_all("lab");
        env
    }

    /// Snapshot of every file under the project except .git, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        walk(self.path(), self.path(), &mut out);
        out.sort();
        out
    }

    /// `git status --porcelain` of the state file ("" when committed as it is).
    pub fn state_status(&self) -> String {
        let out = self
            .git(&["status", "--porcelain", "--", ".infra/state.json"])
            .stdout;
        out.get(..2).unwrap_or("").to_string()
    }

    /// Temp files (`.NAME.tmp.PID`) below `out/` and `.infra/`, links not followed.
    pub fn temp_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![self.p("out"), self.p(".infra")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                } else if name.starts_with('.') && name.contains(".tmp.") {
                    out.push(e.path().display().to_string());
                }
            }
        }
        out
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).stdout.trim().to_string()
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
        if rel == ".git" {
            continue;
        }
        // The lock file stays once made (an OS lock lives on it); released, it is
        // empty, and it is never committed.
        if rel == ".infra/lock" && std::fs::metadata(&p).is_ok_and(|m| m.len() == 0) {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
}

/// N file resources as TOML.
pub fn files_toml(n: usize) -> String {
    (0..n)
        .map(|i| format!("[file.f{i}]\npath = \"d/f{i}.txt\"\ncontent = \"file {i}\\n\"\n\n"))
        .collect()
}

/// A small deterministic generator (no dependency, reproducible by seed), for
/// the randomised tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}
