use super::*;
use std::os::unix::fs::symlink;

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    (t, root, outside)
}

#[test]
fn writes_reads_and_lists_below_the_root() {
    let (_t, root, _) = setup();
    let b = Beneath::open(&root).unwrap();
    b.write(Path::new("a/b/c.txt"), b"hi", 0o640, true).unwrap();
    let e = b.read(Path::new("a/b/c.txt"), 100).unwrap().unwrap();
    assert_eq!((e.data.as_slice(), e.mode), (&b"hi"[..], 0o640));
    let names: Vec<_> = b
        .list(Path::new(""), true, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["a/b/c.txt"]);
    assert!(b.read(Path::new("a/missing"), 100).unwrap().is_none());
    assert!(b.read(Path::new("nodir/x"), 100).unwrap().is_none());
    b.remove(Path::new("a/b/c.txt")).unwrap();
    assert!(!root.join("a/b/c.txt").exists());
}

#[test]
fn a_symlinked_directory_is_never_followed() {
    let (_t, root, outside) = setup();
    symlink(&outside, root.join("link")).unwrap();
    symlink("/", root.join("slash")).unwrap();
    let b = Beneath::open(&root).unwrap();
    for create in [false, true] {
        let err = b
            .write(Path::new("link/x.txt"), b"x", 0o644, create)
            .unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }
    assert!(!outside.join("x.txt").exists());
    let err = b.read(Path::new("link/secret.txt"), 100).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    let err = b.remove(Path::new("link/secret.txt")).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(outside.join("secret.txt").exists());
    assert!(b.read(Path::new("slash/etc/passwd"), 1 << 20).is_err());
    // Listing skips the links instead of walking into them.
    assert!(b.list(Path::new(""), true, 100).unwrap().is_empty());
}

#[test]
fn a_symlinked_file_is_neither_read_nor_written_through() {
    let (_t, root, outside) = setup();
    symlink(outside.join("secret.txt"), root.join("f.txt")).unwrap();
    let b = Beneath::open(&root).unwrap();
    let err = b.read(Path::new("f.txt"), 100).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    // A write replaces the link itself; the target is untouched.
    b.write(Path::new("f.txt"), b"mine", 0o644, false).unwrap();
    assert_eq!(
        std::fs::read(outside.join("secret.txt")).unwrap(),
        b"secret"
    );
    assert!(!std::fs::symlink_metadata(root.join("f.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn traversal_and_absolute_paths_are_refused() {
    let (_t, root, _) = setup();
    let b = Beneath::open(&root).unwrap();
    for p in ["../outside/secret.txt", "/etc/passwd", "a/../../x"] {
        let err = b.read(Path::new(p), 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{p}: {err}");
        assert!(b.write(Path::new(p), b"x", 0o644, true).is_err());
    }
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let (_t, root, _) = setup();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("pipe"),
        FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let b = Beneath::open(&root).unwrap();
    let err = b.read(Path::new("pipe"), 100).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let err = read_regular(&root.join("pipe"), 100).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(b.list(Path::new(""), true, 100).unwrap().is_empty());
}

#[test]
fn reads_are_bounded() {
    let (_t, root, _) = setup();
    std::fs::write(root.join("big"), vec![b'x'; 2000]).unwrap();
    let b = Beneath::open(&root).unwrap();
    let err = b.read(Path::new("big"), 1000).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    let err = read_regular(Path::new("/dev/zero"), 1000).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn the_component_walk_holds_the_same_rule() {
    // What runs on kernels without openat2: `create` always walks.
    let (_t, root, outside) = setup();
    std::fs::create_dir_all(root.join("a")).unwrap();
    symlink(&outside, root.join("a/link")).unwrap();
    let b = Beneath::open(&root).unwrap();
    let err = b.subdir(Path::new("a/link"), true).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(b.subdir(Path::new("a/new/deeper"), true).is_ok());
}

#[test]
fn temp_names_round_trip() {
    let t = temp_name("x.conf");
    let (name, pid) = parse_temp_name(&t).unwrap();
    assert_eq!((name, pid), ("x.conf", std::process::id()));
    assert_eq!(parse_temp_name("x.conf"), None);
}
