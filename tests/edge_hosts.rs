//! The edge providers in their other set-ups: nginx and prometheus managed over
//! SSH (a private sshd on loopback; the files and nginx are on this machine, so
//! the checks can look at them directly), and nginx with a sites-enabled
//! directory of links.

mod common;
mod labkit;

use std::time::Duration;

use common::TestEnv;
use labkit::nginx::{Nginx, Upstream};
use labkit::prometheus::Prometheus;
use labkit::sshd::Sshd;

fn project(providers: &str, resources: &str) -> TestEnv {
    let env = TestEnv::new();
    env.git(&["init", "-q", "-b", "main"]);
    env.write(
        "infra.toml",
        &format!("[project]\nname = \"edge\"\n\n{providers}"),
    );
    env.write(".gitignore", ".infra/lock\n.infra/journal.jsonl\n");
    env.write("infra/main.toml", resources);
    env.commit_all("project");
    env
}

fn with_ssh(env: &TestEnv, sshd: &Sshd, args: &[&str]) -> common::Run {
    let mut cmd = env.cmd(args);
    for (k, v) in sshd.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
fn nginx_and_prometheus_over_ssh() {
    let sshd = Sshd::start();
    let nginx = Nginx::start();
    let prom = Prometheus::start();
    let up = Upstream::start("served-over-ssh");
    let env = project(
        &format!(
            "[providers.edge]\nkind = \"nginx\"\nsites_dir = \"{}\"\nnginx = \"{}\"\nhost = \"{}\"\n\n\
             [providers.mon]\nkind = \"prometheus\"\ntargets_dir = \"{}\"\nhost = \"{}\"\n",
            nginx.conf_d().display(),
            nginx.command(),
            sshd.host_url(),
            prom.targets_dir().display(),
            sshd.host_url()
        ),
        &format!(
            "[proxy_site.app]\nserver_name = \"app.test\"\nupstream = \"{}\"\nlisten = \"127.0.0.1:{}\"\n\n\
             [monitor.app]\nurl = \"http://127.0.0.1:{}/-/ready\"\n",
            up.url(),
            nginx.port,
            prom.port
        ),
    );
    with_ssh(&env, &sshd, &["apply", "--yes"]).expect(0);
    nginx.wait_for("app.test", "served-over-ssh", Duration::from_secs(5));
    assert!(prom.targets_dir().join("edge--app.json").exists());
    let plan = with_ssh(&env, &sshd, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        sshd.log_text().contains("Accepted publickey"),
        "{}",
        sshd.log_text()
    );

    // Without the client config ssh cannot log in: the error says so, as an auth failure.
    let run = env.infra(&["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.all().contains("authentication failed: ssh "),
        "{}",
        run.all()
    );

    env.write("infra/main.toml", "");
    env.commit_all("remove");
    with_ssh(&env, &sshd, &["apply", "--yes"]).expect(0);
    assert_eq!(std::fs::read_dir(nginx.conf_d()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(prom.targets_dir()).unwrap().count(), 0);
}

#[test]
fn nginx_with_enabled_dir_writes_sites_and_links_them() {
    let nginx = Nginx::start();
    let up = Upstream::start("linked-site");
    let available = nginx.dir.path().join("sites-available");
    std::fs::create_dir_all(&available).unwrap();
    let env = project(
        &format!(
            "[providers.edge]\nkind = \"nginx\"\nsites_dir = \"{}\"\nenabled_dir = \"{}\"\nnginx = \"{}\"\n",
            available.display(),
            nginx.conf_d().display(),
            nginx.command()
        ),
        &format!(
            "[proxy_site.app]\nserver_name = \"app.test\"\nupstream = \"{}\"\nlisten = \"127.0.0.1:{}\"\n",
            up.url(),
            nginx.port
        ),
    );
    env.infra(&["apply", "--yes"]).expect(0);
    let link = nginx.conf_d().join("edge--app.conf");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        available.join("edge--app.conf")
    );
    nginx.wait_for("app.test", "linked-site", Duration::from_secs(5));
    env.infra(&["plan", "--detailed-exitcode"]).expect(0);

    env.write("infra/main.toml", "");
    env.commit_all("remove");
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(std::fs::symlink_metadata(&link).is_err(), "link removed");
    assert!(!available.join("edge--app.conf").exists(), "site removed");
}

#[test]
fn links_below_a_root_are_never_followed_locally_or_over_ssh() {
    let sshd = Sshd::start();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "keep").unwrap();
    let remote = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(remote.path().join("files")).unwrap();
    std::os::unix::fs::symlink(outside.path(), remote.path().join("files/link")).unwrap();
    let env = project(
        &format!(
            "[providers.remote]\nkind = \"file\"\nroot = \"{}\"\nhost = \"{}\"\n\n\
             [providers.local]\nkind = \"file\"\nroot = \"out\"\n",
            remote.path().join("files").display(),
            sshd.host_url()
        ),
        "",
    );
    std::fs::create_dir_all(env.path().join("out")).unwrap();
    std::os::unix::fs::symlink(outside.path(), env.path().join("out/link")).unwrap();
    for provider in ["remote", "local"] {
        env.write(
            "infra/main.toml",
            &format!(
                "[file.x]\nprovider = \"{provider}\"\npath = \"link/x.txt\"\ncontent = \"x\"\n"
            ),
        );
        env.commit_all(provider);
        let run = with_ssh(&env, &sshd, &["apply", "--yes"]);
        assert_eq!(run.code, 1, "{provider}: {}", run.all());
        assert!(
            run.all().contains("symbolic link"),
            "{provider}: {}",
            run.all()
        );
        let names: Vec<_> = std::fs::read_dir(outside.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["keep.txt"], "{provider} wrote outside its root");
    }
}
