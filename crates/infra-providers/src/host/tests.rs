use super::ssh::{base64_decode, quote};
use super::*;

#[test]
fn parses_ssh_urls() {
    let Host::Ssh(s) = Host::parse("ssh://root@192.168.1.20:2222").unwrap() else {
        panic!("not ssh")
    };
    assert_eq!(
        (s.user.as_deref(), s.host.as_str(), s.port),
        (Some("root"), "192.168.1.20", Some(2222))
    );
    assert_eq!(s.destination(), "root@192.168.1.20:2222");
    let Host::Ssh(s) = Host::parse("ssh://edge.lan").unwrap() else {
        panic!()
    };
    assert_eq!((s.user, s.port), (None, None));
    let Host::Ssh(s) = Host::parse("ssh://admin@[::1]:22").unwrap() else {
        panic!()
    };
    assert_eq!(s.host, "::1");
    assert_eq!(Host::parse("local").unwrap(), Host::Local);
    assert_eq!(Host::from_setting(None).unwrap(), Host::Local);
}

#[test]
fn refuses_hosts_that_could_become_options_or_shell() {
    for bad in [
        "root@host",
        "http://host",
        "ssh://-oProxyCommand=x",
        "ssh://root@host;rm",
        "ssh://-l@host",
        "ssh://host:0",
        "ssh://host:99999",
        "ssh://ro ot@host",
        "ssh://",
    ] {
        assert!(Host::parse(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn quotes_for_any_shell_word() {
    assert_eq!(quote("plain"), "'plain'");
    assert_eq!(quote("it's"), r"'it'\''s'");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s {}", quote("a'b $(x) `y` \"z\" \\ ;{}")))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a'b $(x) `y` \"z\" \\ ;{}"
    );
}

#[test]
fn decodes_base64() {
    assert_eq!(base64_decode(b"").unwrap(), b"");
    assert_eq!(base64_decode(b"YQpi").unwrap(), b"a\nb");
    assert_eq!(base64_decode(b"eQ==").unwrap(), b"y");
    assert_eq!(base64_decode(b"eHk=").unwrap(), b"xy");
    assert!(base64_decode(b"e===").is_none());
    assert!(base64_decode(b"abc").is_none());
    assert!(base64_decode(b"ab!=").is_none());
}

#[test]
fn temp_names() {
    assert!(is_temp_name(".site.conf.tmp.123"));
    assert!(is_temp_name("d/.x.tmp.1"));
    assert!(!is_temp_name("site.conf"));
}

#[tokio::test]
async fn local_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let h = Host::Local;
    let root = dir_setting(&h, dir.path(), "files");
    assert_eq!(root.read("sub/a.conf").await.unwrap(), None);
    let opts = WriteOpts {
        mode: 0o600,
        create_dirs: true,
    };
    root.write("sub/a.conf", b"one\n", opts).await.unwrap();
    let e = root.read("sub/a.conf").await.unwrap().unwrap();
    assert_eq!(
        (e.name.as_str(), e.mode, e.data.as_slice()),
        ("a.conf", 0o600, &b"one\n"[..])
    );
    let flat_opts = WriteOpts {
        mode: 0o644,
        create_dirs: false,
    };
    root.write("b.conf", b"two", flat_opts).await.unwrap();
    let flat = root.list(Depth::Flat).await.unwrap();
    assert_eq!(
        flat.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["b.conf"]
    );
    let all = root.list(Depth::Recursive).await.unwrap();
    assert_eq!(all.len(), 2);
    let target = root.path("sub/a.conf");
    root.symlink(&target, "link.conf").await.unwrap();
    root.symlink(&target, "link.conf").await.unwrap();
    assert_eq!(std::fs::read(root.path("link.conf")).unwrap(), b"one\n");
    root.remove("link.conf").await.unwrap();
    root.remove("link.conf").await.unwrap();
    let missing = dir_setting(&h, dir.path(), "missing");
    assert!(missing.list(Depth::Flat).await.unwrap().is_empty());
    assert!(root.write("nodir/x", b"", flat_opts).await.is_err());
    let out = h
        .run(&[
            "sh".into(),
            "-c".into(),
            "echo out; echo err >&2; exit 3".into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(3), "out\n", "err\n")
    );
}

#[tokio::test]
async fn a_link_below_the_root_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    std::fs::write(outside.join("keep.txt"), "keep").unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("files/link")).unwrap();
    let root = dir_setting(&Host::Local, dir.path(), "files");
    let opts = WriteOpts {
        mode: 0o644,
        create_dirs: true,
    };
    let err = root.write("link/x.txt", b"x", opts).await.unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(root.read("link/keep.txt").await.is_err());
    assert!(root.remove("link/keep.txt").await.is_err());
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    // The root's own path is resolved beneath the project too: `files` as a link
    // to elsewhere is refused.
    std::fs::remove_dir_all(dir.path().join("files")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("files")).unwrap();
    assert!(root.read("keep.txt").await.is_err());
    assert!(root.list(Depth::Flat).await.is_err());
}

#[tokio::test]
async fn stale_temp_files_of_dead_writes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir_setting(&Host::Local, dir.path(), "files");
    std::fs::create_dir_all(root.path("d")).unwrap();
    let dead = ".p--a.txt.tmp.4194999";
    std::fs::write(root.path(&format!("d/{dead}")), "x").unwrap();
    std::fs::write(root.path(".other.txt.tmp.4194999"), "x").unwrap();
    std::fs::write(root.path(".p--c.txt.tmp.4194999"), "not ours").unwrap();
    let removed = root
        .remove_stale_temps(|name| name.starts_with("p--"), |data| data == b"x")
        .await
        .unwrap();
    assert_eq!(removed, [format!("d/{dead}")]);
    assert!(
        root.path(".p--c.txt.tmp.4194999").exists(),
        "unowned content stays"
    );
    assert!(root.path(".other.txt.tmp.4194999").exists());
}

#[test]
fn roots_that_hold_the_project_or_leave_it_are_refused() {
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    let parent = p.parent().unwrap().to_string_lossy().into_owned();
    let own = p.to_string_lossy().into_owned();
    let local = [
        ("", "must name a directory"),
        ("/", "whole filesystem"),
        ("/..", "whole filesystem"),
        (".", "project directory itself"),
        ("out/..", "project directory itself"),
        ("..", "leaves the project"),
        ("../elsewhere", "leaves the project"),
        ("a/../../b", "leaves the project"),
        (own.as_str(), "holds the project"),
        (parent.as_str(), "holds the project"),
    ];
    for (dir, why) in local {
        let found = check_host_dirs(None, p, &[("root", Some(dir))]);
        assert_eq!(found.len(), 1, "{dir:?} accepted");
        assert!(found[0].to_string().contains(why), "{dir:?}: {}", found[0]);
        assert!(found[0].to_string().starts_with("root:"), "{}", found[0]);
    }
    for ok in ["out", "./out", "a/b/../c", "/srv/files"] {
        assert!(
            check_host_dirs(None, p, &[("root", Some(ok))]).is_empty(),
            "{ok:?} refused"
        );
    }
    let ssh = Some("ssh://root@edge");
    assert!(check_host_dirs(ssh, p, &[("root", Some("/"))])[0]
        .to_string()
        .contains("whole filesystem"));
    assert!(check_host_dirs(ssh, p, &[("root", Some("out"))])[0]
        .to_string()
        .contains("absolute"));
    assert!(
        check_host_dirs(ssh, p, &[("root", Some(parent.as_str()))]).is_empty(),
        "a remote path is not this project's"
    );
}
