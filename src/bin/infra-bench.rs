//! Benchmark: `infra validate` and a no-change `infra plan` over generated
//! projects of N `file` resources. Measures wall time (median of runs) and peak
//! memory (max RSS of the child, from wait4) of the real binary.
//!
//! Usage: infra-bench [--infra PATH] [--runs N] [SIZE...]   (default sizes 1000 10000 50000)
//! Build first: cargo build --release --bins

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut infra = std::env::current_exe().unwrap().with_file_name("infra");
    let mut runs = 5;
    let mut sizes = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--infra" => infra = PathBuf::from(args.next().expect("--infra PATH")),
            "--runs" => runs = args.next().expect("--runs N").parse().expect("number"),
            n => sizes.push(n.parse::<usize>().expect("sizes are numbers")),
        }
    }
    if sizes.is_empty() {
        sizes = vec![1_000, 10_000, 50_000];
    }
    println!(
        "infra-bench: {} (median of {runs} runs; peak RSS is the max over runs)",
        infra.display()
    );
    println!(
        "{:>8}  {:>12}  {:>12}  {:>12}  {:>12}  {:>14}",
        "files", "apply s", "validate ms", "validate MiB", "plan ms", "plan MiB"
    );
    for n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(dir.path(), n);
        let (apply, _) = measure(
            &infra,
            dir.path(),
            &["apply", "--yes", "--no-commit", "--parallelism", "10"],
            1,
        );
        let (v, vmem) = measure(&infra, dir.path(), &["validate"], runs);
        let (p, pmem) = measure(&infra, dir.path(), &["plan", "--detailed-exitcode"], runs);
        println!(
            "{n:>8}  {:>12.2}  {:>12.1}  {:>12.1}  {:>12.1}  {:>14.1}",
            apply.as_secs_f64(),
            v.as_secs_f64() * 1e3,
            vmem,
            p.as_secs_f64() * 1e3,
            pmem
        );
    }
}

fn generate(dir: &Path, n: usize) {
    std::fs::write(
        dir.join("infra.toml"),
        "[project]\nname = \"bench\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("infra")).unwrap();
    // Ten resource files, as `infra ask` would spread services over files.
    let per = n.div_ceil(10);
    for f in 0..10 {
        let mut s = String::new();
        for i in (f * per)..((f + 1) * per).min(n) {
            s.push_str(&format!("[file.r{i}]\ngroup = \"g{}\"\npath = \"d{}/r{i}.conf\"\ncontent = \"key = {i}\\n\"\n\n", i % 50, i % 100));
        }
        std::fs::write(dir.join(format!("infra/part{f}.toml")), s).unwrap();
    }
}

/// Median wall time and max peak RSS (MiB) over `runs` runs; the command must succeed.
fn measure(infra: &Path, dir: &Path, args: &[&str], runs: usize) -> (Duration, f64) {
    let mut times = Vec::new();
    let mut peak_kib = 0i64;
    for _ in 0..runs {
        let started = Instant::now();
        let child = Command::new(infra)
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn infra");
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let elapsed = started.elapsed();
        assert_eq!(rc, pid, "wait4 failed");
        let code = libc::WEXITSTATUS(status);
        assert!(code == 0, "infra {args:?} exited {code}");
        times.push(elapsed);
        peak_kib = peak_kib.max(usage.ru_maxrss);
    }
    times.sort();
    (times[times.len() / 2], peak_kib as f64 / 1024.0)
}
