//! History and revisions: listing infra commits, resolving revisions, reading and
//! restoring old content, branching.

use std::path::Path;

use super::*;

#[test]
fn history_lists_infra_commits_with_trailers() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "a.toml", "1\n");
    let trailers = [
        ("Infra-Request", "add web".to_string()),
        ("Infra-Plan", "+4 ~0 -0".into()),
    ];
    let msg = message("Request: add web", Some("Asked by ops."), &trailers);
    let c1 = repo.commit_paths(&["a.toml"], &msg).unwrap().unwrap();
    write(d, "a.toml", "2\n");
    repo.commit_paths(&["a.toml"], "Manual edit\n\nNo trailers here.\n")
        .unwrap()
        .unwrap();
    write(d, "a.toml", "3\n");
    let msg = message(
        "Apply",
        None,
        &[
            ("Infra-Applied-Spec", c1.clone()),
            ("Signed-off-by", "A <a@b>".into()),
        ],
    );
    let c3 = repo.commit_paths(&["a.toml"], &msg).unwrap().unwrap();

    let history = repo.history(10).unwrap();
    assert_eq!(
        history.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [&c3, &c1]
    );
    assert_eq!(
        history[1],
        HistoryEntry {
            id: c1.clone(),
            short: c1[..8].to_string(),
            time: 1_700_000_000,
            date: "2023-11-14 22:13".into(),
            summary: "Request: add web".into(),
            trailers: vec![
                ("Infra-Request".into(), "add web".into()),
                ("Infra-Plan".into(), "+4 ~0 -0".into())
            ],
        }
    );
    assert_eq!(
        history[0].trailers[0],
        ("Infra-Applied-Spec".to_string(), c1)
    );
    assert_eq!(history[0].trailers[1].0, "Signed-off-by");
    assert_eq!(repo.history(1).unwrap().len(), 1);
    assert!(repo.history(0).unwrap().is_empty());
}

#[test]
fn resolve_revisions() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "a", "1\n");
    let c1 = commit(&repo, &["a"], "One");
    write(d, "a", "2\n");
    let c2 = commit(&repo, &["a"], "Two");
    git(d, &["tag", "v1", &c1]);
    assert_eq!(repo.resolve("HEAD").unwrap(), c2);
    assert_eq!(repo.resolve("HEAD~1").unwrap(), c1);
    assert_eq!(repo.resolve(&c1[..7]).unwrap(), c1);
    assert_eq!(repo.resolve("v1").unwrap(), c1);
    assert_eq!(repo.resolve(&repo.current_branch().unwrap()).unwrap(), c2);
    let err = repo.resolve("nope").unwrap_err();
    assert_eq!(err.message, "unknown revision `nope`");
    assert!(err.hint.unwrap().contains("infra history"));
}

#[test]
fn restore_brings_back_deleted_and_removes_added() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, ".gitignore", "*.lock\n");
    write(d, "infra/a.toml", "v1\n");
    write(d, "infra/b.toml", "b\n");
    let rev1 = commit(&repo, &[".gitignore", "infra"], "One");
    write(d, "infra/a.toml", "v2\n");
    std::fs::remove_file(d.join("infra/b.toml")).unwrap();
    write(d, "infra/sub/c.toml", "c\n");
    commit(&repo, &["infra"], "Two");
    write(d, "infra/apply.lock", "1\n");

    let changed = repo.restore(&rev1[..8], &["infra", "templates"]).unwrap();
    assert_eq!(
        changed,
        ["infra/a.toml", "infra/b.toml", "infra/sub/c.toml"]
    );
    assert_eq!(read(d, "infra/a.toml"), "v1\n");
    assert_eq!(read(d, "infra/b.toml"), "b\n");
    assert!(
        !d.join("infra/sub").exists(),
        "emptied directories are pruned"
    );
    assert!(
        d.join("infra/apply.lock").exists(),
        "ignored files are kept"
    );
    assert_eq!(repo.dirty(&["infra"]).unwrap(), changed);

    commit(&repo, &["infra"], "Rollback");
    let tree = |rev: &str| git(d, &["rev-parse", &format!("{rev}^{{tree}}")]);
    assert_eq!(tree("HEAD"), tree(&rev1));
    assert!(repo.restore(&rev1, &["infra"]).unwrap().is_empty());
}

#[test]
fn file_at_reads_old_content() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "infra/a.toml", "one\n");
    let rev1 = commit(&repo, &["infra"], "One");
    write(d, "infra/a.toml", "two\n");
    write(d, "infra/b.toml", "b\n");
    commit(&repo, &["infra"], "Two");
    assert_eq!(
        repo.file_at(&rev1, "infra/a.toml").unwrap().as_deref(),
        Some("one\n")
    );
    assert_eq!(
        repo.file_at("HEAD", "infra/a.toml").unwrap().as_deref(),
        Some("two\n")
    );
    assert_eq!(repo.file_at(&rev1, "infra/b.toml").unwrap(), None);
    assert!(repo.file_at("HEAD", "infra").is_err());
    assert_eq!(
        repo.file_at("nope", "infra/a.toml").unwrap_err().message,
        "unknown revision `nope`"
    );
}

#[test]
fn create_and_switch_branch_keeps_the_work_tree() {
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "README.md", "one\n");
    let id = commit(&repo, &["README.md"], "One");
    write(d, "README.md", "edited\n");
    repo.create_and_switch_branch("infra/request-1").unwrap();
    assert_eq!(repo.current_branch().unwrap(), "infra/request-1");
    assert_eq!(
        git(d, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "infra/request-1\n"
    );
    assert_eq!(repo.head().unwrap(), Some(id));
    assert_eq!(git(d, &["status", "--porcelain"]), " M README.md\n");
    let err = repo
        .create_and_switch_branch("infra/request-1")
        .unwrap_err();
    assert_eq!(err.message, "branch `infra/request-1` already exists");
    assert!(repo.create_and_switch_branch("bad..name").is_err());
}

#[cfg(unix)]
#[test]
fn modes_and_symlinks_round_trip() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, repo) = setup();
    let d = dir.path();
    write(d, "templates/hook.sh", "#!/bin/sh\n");
    std::fs::set_permissions(
        d.join("templates/hook.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("hook.sh", d.join("templates/link")).unwrap();
    let rev1 = commit(&repo, &["templates"], "Templates");
    let tree = git(d, &["ls-tree", "-r", "HEAD"]);
    assert!(
        tree.contains("100755 blob") && tree.contains("120000 blob"),
        "{tree}"
    );
    assert_eq!(git(d, &["status", "--porcelain"]), "");

    std::fs::remove_dir_all(d.join("templates")).unwrap();
    commit(&repo, &["templates"], "Drop templates");
    let changed = repo.restore(&rev1, &["templates"]).unwrap();
    assert_eq!(changed, ["templates/hook.sh", "templates/link"]);
    let mode = std::fs::metadata(d.join("templates/hook.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111);
    assert_eq!(
        std::fs::read_link(d.join("templates/link")).unwrap(),
        Path::new("hook.sh")
    );
    assert!(repo.restore(&rev1, &["templates"]).unwrap().is_empty());
}
