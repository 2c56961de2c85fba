//! Loading and the spec's own validation on in-memory texts: what each produces
//! and where each problem is located.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::load::load_texts;
use super::validate::{dependencies, validate};
use super::{Address, Spec};

const PROJECT: &str =
    "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n";

fn load(main: &str) -> (Spec, Vec<(String, String)>) {
    let texts = vec![
        (PathBuf::from("infra.toml"), PROJECT.to_string()),
        (PathBuf::from("infra/main.toml"), main.to_string()),
    ];
    let (spec, mut diags) = load_texts(Path::new("/p"), texts);
    if diags.is_empty() {
        diags = validate(&spec);
    }
    let located = diags
        .items
        .iter()
        .map(|d| {
            let at = d
                .loc
                .as_ref()
                .map(|l| spec.sources.describe(l))
                .unwrap_or_default();
            (at, d.message.clone())
        })
        .collect();
    (spec, located)
}

#[test]
fn resources_providers_and_locations_are_loaded() {
    let (spec, problems) = load("[file.motd]\npath = \"motd.txt\"\ncontent = \"hi\"\n");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(spec.project.name, "t");
    assert_eq!(spec.providers["local"].kind, "file");
    let r = spec.resource(&Address::new("file", "motd")).unwrap();
    assert_eq!(r.attrs["content"], json!("hi"));
    assert_eq!(spec.sources.describe(&r.loc), "infra/main.toml:1:7");
    assert_eq!(
        spec.sources.describe(&r.attr_locs["content"]),
        "infra/main.toml:3:11"
    );
    assert_eq!(
        spec.sources
            .describe(&spec.providers["local"].setting_locs["root"]),
        "infra.toml:6:8"
    );
}

#[test]
fn a_syntax_error_is_located_and_nothing_else_is_checked() {
    let (_, problems) = load("[file.a]\npath = \"a.txt\ncontent = \"x\"\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].0.starts_with("infra/main.toml:2:"),
        "{problems:?}"
    );
}

#[test]
fn every_problem_of_a_spec_comes_out_at_once() {
    let (_, problems) = load(
        "[file.a]\npath = \"a.txt\"\ncontnet = \"x\"\n\n[file.b]\ncontent = \"y\"\n\n[file.c]\npath = \"c.txt\"\ncontent = \"${file.zz.path}\"\n",
    );
    let at = |line: &str| problems.iter().any(|(loc, _)| loc.starts_with(line));
    assert!(at("infra/main.toml:3:"), "unknown attribute: {problems:?}");
    assert!(at("infra/main.toml:5:"), "missing path: {problems:?}");
    assert!(at("infra/main.toml:10:"), "unknown reference: {problems:?}");
}

#[test]
fn a_dependency_cycle_is_an_error() {
    let (_, problems) = load(
        "[file.a]\npath = \"a.txt\"\ncontent = \"${file.b.path}\"\n\n[file.b]\npath = \"b.txt\"\ncontent = \"${file.a.path}\"\n",
    );
    assert!(
        problems.iter().any(|(_, m)| m.contains("cycle")),
        "{problems:?}"
    );
}

#[test]
fn references_become_dependencies() {
    let (spec, problems) = load(
        "[file.a]\npath = \"a.txt\"\ncontent = \"x\"\n\n[file.b]\npath = \"b.txt\"\ncontent = \"${file.a.path}\"\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    let deps = dependencies(&spec);
    assert!(deps[&Address::new("file", "b")].contains(&Address::new("file", "a")));
    assert!(deps
        .get(&Address::new("file", "a"))
        .is_none_or(|d| d.is_empty()));
}

#[test]
fn outputs_load_in_both_forms_beside_resources() {
    let (spec, problems) = load(
        "[file.a]\npath = \"a.txt\"\ncontent = \"x\"\n\n[outputs]\nwhere = \"out/${file.a.path}\"\nsecret = { value = \"${file.a.content}\", sensitive = true }\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    let o = &spec.outputs["where"];
    assert_eq!((o.value.as_str(), o.marked), ("out/${file.a.path}", false));
    assert_eq!(spec.sources.describe(&o.loc), "infra/main.toml:6:9");
    assert!(spec.outputs["secret"].marked);
}

#[test]
fn bad_outputs_are_located() {
    let (_, problems) = load(
        "[outputs]\nBad = \"x\"\nnum = 5\ntable = { value = \"x\", sensitve = true }\nempty = { sensitive = true }\n",
    );
    let expect = [
        ("infra/main.toml:2:1", "invalid output name `Bad`"),
        (
            "infra/main.toml:3:7",
            "output `num` must be a string, found a number",
        ),
        (
            "infra/main.toml:4:24",
            "output `table` has no setting `sensitve`",
        ),
        ("infra/main.toml:5:9", "output `empty` has no value"),
    ];
    for (at, msg) in expect {
        assert!(
            problems.iter().any(|(l, m)| l == at && m == msg),
            "{at} {msg}: {problems:?}"
        );
    }
    let (_, problems) = load(
        "[file.a]\npath = \"a.txt\"\ncontent = \"x\"\n\n[outputs]\nx = \"${file.b.path}\"\ny = \"${file.a.size}\"\nz = \"${vars.nope}\"\nw = \"${oops\"\n",
    );
    let expect = [
        (
            "infra/main.toml:6:5",
            "output refers to `file.b`, which is not declared",
        ),
        ("infra/main.toml:7:5", "`file.a` has no attribute `size`"),
        (
            "infra/main.toml:8:5",
            "output refers to undefined variable `vars.nope`",
        ),
        ("infra/main.toml:9:5", "output `w`: unclosed `${`"),
    ];
    for (at, msg) in expect {
        assert!(
            problems.iter().any(|(l, m)| l == at && m == msg),
            "{at} {msg}: {problems:?}"
        );
    }
}

#[test]
fn an_output_declared_in_two_files_is_an_error() {
    let texts = vec![
        (
            PathBuf::from("infra.toml"),
            format!("{PROJECT}\n[outputs]\nx = \"a\"\n"),
        ),
        (
            PathBuf::from("infra/main.toml"),
            "[outputs]\nx = \"b\"\n".into(),
        ),
    ];
    let (spec, diags) = load_texts(Path::new("/p"), texts);
    let d = &diags.items[0];
    assert_eq!(d.message, "output `x` is declared twice");
    assert_eq!(
        spec.sources.describe(d.loc.as_ref().unwrap()),
        "infra/main.toml:2:1"
    );
}
