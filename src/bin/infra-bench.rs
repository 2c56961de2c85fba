//! Benchmark: `infra validate` and a no-change `infra plan` over generated
//! projects of N `file` resources. Measures wall time (median of runs) and peak
//! memory (max RSS of the child, from wait4) of the real binary.
//!
//! Usage: infra-bench [--infra PATH] [--runs N] [SIZE...]   (default sizes 1000 10000 50000)
//!        infra-bench ask [--infra PATH] [--runs N] [CAPS]   (offline `ask --dry-run`, default 200 capabilities)
//!        infra-bench pdns [--infra PATH] [--runs N] [RECORDS [NEW]]   (infra vs octoDNS on a real
//!            PowerDNS: no-change plan over RECORDS (default 10000), apply of NEW (default 1000))
//! Build first: cargo build --release --bins

#[path = "infra-bench/pdns.rs"]
mod pdns;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut infra = std::env::current_exe().unwrap().with_file_name("infra");
    let mut runs = 5;
    let mut sizes = Vec::new();
    let mut ask = false;
    let mut powerdns = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "ask" => ask = true,
            "pdns" => powerdns = true,
            "--infra" => {
                infra = std::fs::canonicalize(args.next().expect("--infra PATH"))
                    .expect("--infra: no such file")
            }
            "--runs" => runs = args.next().expect("--runs N").parse().expect("number"),
            n => sizes.push(n.parse::<usize>().expect("sizes are numbers")),
        }
    }
    if powerdns {
        let records = sizes.first().copied().unwrap_or(10_000);
        let new = sizes.get(1).copied().unwrap_or(1_000);
        pdns::run(&infra, runs, records, new);
        return;
    }
    if ask {
        bench_ask(&infra, runs.max(21), sizes.first().copied().unwrap_or(200));
        return;
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
            &[],
        );
        let (v, vmem) = measure(&infra, dir.path(), &["validate"], runs, &[]);
        let (p, pmem) = measure(
            &infra,
            dir.path(),
            &["plan", "--detailed-exitcode"],
            runs,
            &[],
        );
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

/// Offline `ask --dry-run` with `caps` capabilities loaded (the built-ins plus generated ones).
fn bench_ask(infra: &Path, runs: usize, caps: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("infra.toml"),
        "[project]\nname = \"bench\"\ndomain = \"lab.example.com\"\n\n[providers.engine]\nkind = \"docker\"\n\n[providers.dns]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key = \"env:PDNS_API_KEY\"\n\n[providers.edge]\nkind = \"nginx\"\nsites_dir = \"/tmp/sites\"\n\n[providers.mon]\nkind = \"prometheus\"\ntargets_dir = \"/tmp/targets\"\n\n[pools.lan]\ncidr = \"10.20.0.0/24\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("capabilities")).unwrap();
    // The built-in library has 7; the rest are plausible project capabilities.
    let words = [
        "backup", "cache", "queue", "search", "mail", "vpn", "ldap", "ci", "registry", "wiki",
        "chat", "metrics", "logs", "storage", "proxy", "dns", "auth", "billing", "media", "git",
    ];
    for i in 0..caps.saturating_sub(7) {
        let w = words[i % words.len()];
        let text = format!(
            "+++\nname = \"{w}-{i}\"\nsummary = \"A {w} stack variant {i}: container, DNS record, proxy site and monitor\"\ntriggers = [\"{w} stack {i}\", \"new {w} {i}\"]\ntemplate = \"web-service.toml.j2\"\n[params.name]\ntype = \"name\"\nrequired = true\ndescription = \"name\"\n[params.port]\ntype = \"port\"\ndefault = 8080\ndescription = \"port\"\n+++\n# {w} {i}\n\nBuilds a {w} stack.\n\n## Examples\n- \"Create a {w} stack {i} called x{i}\" → name = \"x{i}\"\n"
        );
        std::fs::write(d.join(format!("capabilities/{w}-{i}.md")), text).unwrap();
    }
    let (t, mem) = measure(
        infra,
        d,
        &[
            "ask",
            "--dry-run",
            "--format",
            "json",
            "Create a new API scanner service",
        ],
        runs,
        &[],
    );
    println!("infra-bench ask: {caps} capabilities, median of {runs} runs: {:.1} ms wall, {:.1} MiB peak RSS", t.as_secs_f64() * 1e3, mem);
    interpretation(d, runs);
}

/// The offline interpretation alone (grammar over the loaded spec, 200
/// capabilities routed), in this process: median per request over a mix of
/// creations, edits, DNS and removals.
fn interpretation(root: &Path, runs: usize) {
    use infra::ask::grammar::{world::World, Grammar};
    let registry = infra::providers::registry();
    let spec = infra::project::load_spec(root, &registry, false).expect("the bench project loads");
    let library = infra::capability::Library::load(Some(root));
    let router = infra::ask::router::Router::new(&library.caps);
    let world = World::of(&spec);
    let grammar = Grammar {
        world: &world,
        library: &library,
        router: &router,
    };
    let requests = [
        "Create a new API scanner service",
        "deploy jellyfin with 4 cores, 4 GiB RAM and a 100 GB disk, port 8096, no monitoring",
        "spin up three containers: node-a, node-b and node-c, each with 2 cores",
        "add an A record camera -> 10.20.0.31 with a ttl of 60",
        "give the api scanner 2 more cores and double its memory",
        "The box moved desks today. Could you take the proxy off the api scanner but keep its DNS?",
    ];
    let mut times = Vec::new();
    for _ in 0..runs {
        for r in requests {
            let t = Instant::now();
            let _ = std::hint::black_box(grammar.understand(r));
            times.push(t.elapsed());
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    println!(
        "infra-bench ask: interpretation alone, {} requests x {runs}: median {:.3} ms, max {:.3} ms",
        requests.len(),
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
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

/// Median wall time and max peak RSS (MiB) over `runs` runs of `program` (infra or
/// a peer's tool) with extra environment `env`; the command must succeed.
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measure(
    program: &Path,
    dir: &Path,
    args: &[&str],
    runs: usize,
    env: &[(&str, &str)],
) -> (Duration, f64) {
    let mut times = Vec::new();
    let mut peak_kib = 0i64;
    for _ in 0..runs {
        let started = Instant::now();
        let child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let elapsed = started.elapsed();
        assert_eq!(rc, pid, "wait4 failed");
        let code = libc::WEXITSTATUS(status);
        assert!(code == 0, "{} {args:?} exited {code}", program.display());
        times.push(elapsed);
        peak_kib = peak_kib.max(usage.ru_maxrss);
    }
    times.sort();
    (times[times.len() / 2], peak_kib as f64 / 1024.0)
}
