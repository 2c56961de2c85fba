//! The parts that need no repository state: path translation, message format,
//! identity precedence and date handling.

use super::super::identity::{format_utc, identity, parse_date, Identity, Role};
use super::super::paths::matches;
use super::*;

#[test]
fn project_paths_translate_in_one_place() {
    let (_dir, mut repo) = setup();
    assert_eq!(repo.to_repo("./infra/").unwrap(), "infra");
    assert_eq!(repo.to_repo(".").unwrap(), "");
    assert!(repo.to_repo("/etc/passwd").is_err());
    repo.prefix = "deploy/prod".into();
    assert_eq!(
        repo.to_repo("infra/a.toml").unwrap(),
        "deploy/prod/infra/a.toml"
    );
    assert_eq!(
        repo.to_project("deploy/prod/infra.toml").as_deref(),
        Some("infra.toml")
    );
    assert_eq!(repo.to_project("deploy/production/x"), None);
    assert_eq!(repo.to_project("README.md"), None);
    assert!(matches("infra/a.toml", "infra") && matches("infra", "infra") && matches("x", ""));
    assert!(!matches("infra.toml", "infra") && !matches("infrastructure/a", "infra"));
}

#[test]
fn message_format() {
    let trailers = [
        ("Infra-Request", "add a\nweb  service".into()),
        ("Infra-Plan", "+4 ~0 -0".into()),
    ];
    let msg = message("Add web", Some("Two\nlines\n"), &trailers);
    let expected =
        "Add web\n\nTwo\nlines\n\nInfra-Request: add a web service\nInfra-Plan: +4 ~0 -0\n";
    assert_eq!(msg, expected);
    assert_eq!(
        history::trailers(&msg)[0],
        ("Infra-Request".into(), "add a web service".into())
    );
    assert_eq!(message("Subject", None, &[]), "Subject\n");
    assert_eq!(
        message("Subject", Some(" "), &[("K", "v".into())]),
        "Subject\n\nK: v\n"
    );
}

#[test]
fn identity_precedence() {
    let none = |_: &str| None;
    let fallback = Identity {
        name: "infra".into(),
        email: "infra@localhost".into(),
        time: None,
    };
    assert_eq!(identity(Role::Author, none, none).unwrap(), fallback);

    let config = |k: &str| match k {
        "user.name" => Some("Cfg".to_string()),
        "user.email" => Some("cfg@example.com".to_string()),
        _ => None,
    };
    let env = |k: &str| match k {
        "GIT_AUTHOR_NAME" => Some("Env".to_string()),
        "GIT_COMMITTER_DATE" => Some("1700000000 +0100".to_string()),
        _ => None,
    };
    let author = identity(Role::Author, env, config).unwrap();
    assert_eq!(
        (author.name.as_str(), author.email.as_str(), author.time),
        ("Env", "cfg@example.com", None)
    );
    let committer = identity(Role::Committer, env, config).unwrap();
    assert_eq!(
        (committer.name.as_str(), committer.time),
        ("Cfg", Some((1_700_000_000, 60)))
    );

    let bad = |k: &str| (k == "GIT_AUTHOR_DATE").then(|| "yesterday".to_string());
    let err = identity(Role::Author, bad, none).unwrap_err();
    assert_eq!(
        err.message,
        "GIT_AUTHOR_DATE=yesterday is not a date infra understands"
    );
}

#[test]
fn dates_parse_and_format() {
    let t = 1_700_000_000;
    assert_eq!(parse_date("@1700000000 +0000"), Some((t, 0)));
    assert_eq!(parse_date("1700000000 +0000"), Some((t, 0)));
    assert_eq!(parse_date("1700000000"), Some((t, 0)));
    assert_eq!(parse_date("1700000000 -0530"), Some((t, -330)));
    assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some((t, 0)));
    assert_eq!(parse_date("2023-11-14 23:13:20 +0100"), Some((t, 60)));
    assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Some((t, 60)));
    assert_eq!(parse_date("2023-11-14T22:13"), Some((t - 20, 0)));
    for bad in [
        "",
        "yesterday",
        "1700000000 UTC",
        "2023-13-01T00:00:00Z",
        "2023-11-14",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    assert_eq!(format_utc(t), "2023-11-14 22:13");
    assert_eq!(format_utc(0), "1970-01-01 00:00");
    assert_eq!(format_utc(-60), "1969-12-31 23:59");
    assert_eq!(format_utc(951_782_400), "2000-02-29 00:00");
}
