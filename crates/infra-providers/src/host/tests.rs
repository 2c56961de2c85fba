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
    let p = dir.path().join("sub/a.conf");
    assert_eq!(h.read(&p).await.unwrap(), None);
    let opts = WriteOpts {
        mode: 0o600,
        create_dirs: true,
    };
    h.write(&p, b"one\n", opts).await.unwrap();
    let e = h.read(&p).await.unwrap().unwrap();
    assert_eq!(
        (e.name.as_str(), e.mode, e.data.as_slice()),
        ("a.conf", 0o600, &b"one\n"[..])
    );
    h.write(
        &dir.path().join("b.conf"),
        b"two",
        WriteOpts {
            mode: 0o644,
            create_dirs: false,
        },
    )
    .await
    .unwrap();
    let flat = h.list(dir.path(), Depth::Flat).await.unwrap();
    assert_eq!(
        flat.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["b.conf"]
    );
    let all = h.list(dir.path(), Depth::Recursive).await.unwrap();
    assert_eq!(all.len(), 2);
    let link = dir.path().join("link.conf");
    h.symlink(&p, &link).await.unwrap();
    h.symlink(&p, &link).await.unwrap();
    assert_eq!(std::fs::read(&link).unwrap(), b"one\n");
    h.remove(&link).await.unwrap();
    h.remove(&link).await.unwrap();
    assert!(h
        .list(&dir.path().join("missing"), Depth::Flat)
        .await
        .unwrap()
        .is_empty());
    let nodir = h
        .write(
            &dir.path().join("nodir/x"),
            b"",
            WriteOpts {
                mode: 0o644,
                create_dirs: false,
            },
        )
        .await;
    assert!(nodir.is_err());
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
