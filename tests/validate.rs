//! `infra validate`: every kind of spec error reports file:line:column with a
//! help line, all errors come in one run, and nothing on disk changes.

mod common;
use common::TestEnv;

const PROVIDER: &str =
    "[project]\nname = \"t\"\n\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n";

fn check(resources: &str, expect: &[&str]) -> String {
    let env = TestEnv::new();
    env.write("infra.toml", PROVIDER);
    env.write("infra/main.toml", resources);
    let before = env.snapshot();
    let run = env.infra(&["validate"]).expect(1);
    for e in expect {
        assert!(run.stderr.contains(e), "expected {e:?} in:\n{}", run.stderr);
    }
    assert_eq!(env.snapshot(), before, "validate must not change anything");
    run.stderr
}

#[test]
fn valid_example_passes() {
    let env = TestEnv::example();
    let run = env.infra(&["validate"]).expect(0);
    assert!(run.stdout.contains("3 resources"), "{}", run.stdout);
}

#[test]
fn toml_syntax_error_has_location() {
    check(
        "[file.a]\npath = \"a.txt\ncontent = \"x\"\n",
        &["infra/main.toml:2:", "TOML syntax"],
    );
}

#[test]
fn unknown_kind_suggests_closest() {
    check(
        "[fille.a]\npath = \"a\"\n",
        &[
            "infra/main.toml:1:2",
            "unknown kind or table `fille`",
            "did you mean `file`",
        ],
    );
}

#[test]
fn unknown_attribute_suggests_closest() {
    check(
        "[file.a]\npath = \"a\"\ncontnet = \"x\"\n",
        &[
            "infra/main.toml:3:11",
            "has no attribute `contnet`",
            "did you mean `content`",
        ],
    );
}

#[test]
fn missing_required_attribute() {
    check(
        "[file.a]\ncontent = \"x\"\n",
        &["infra/main.toml:1:7", "missing required attribute `path`"],
    );
}

#[test]
fn wrong_type_and_range() {
    let out = check(
        "[file.a]\npath = \"a\"\ncontent = 5\n\n[monitor.m]\nprovider = \"local\"\nurl = \"http://x/\"\ninterval = 0\n",
        &["infra/main.toml:3:11", "`content` must be a string, found a number", "`interval`: 0 is out of range"],
    );
    assert!(out.contains("infra/main.toml:8:12"), "{out}");
}

#[test]
fn reference_to_missing_resource_and_attribute() {
    check(
        "[file.a]\npath = \"a\"\ncontent = \"${file.b.path}\"\n\n[file.c]\npath = \"c\"\ncontent = \"${file.a.colour}\"\n",
        &["refers to `file.b`, which is not declared", "`file.a` has no attribute `colour`", "infra/main.toml:3:11", "infra/main.toml:7:11"],
    );
}

#[test]
fn malformed_reference() {
    check(
        "[file.a]\npath = \"a\"\ncontent = \"${file.a}\"\n",
        &["is not a reference", "infra/main.toml:3:11"],
    );
}

#[test]
fn bad_outputs_are_reported_where_written() {
    check(
        "[file.a]\npath = \"a\"\ncontent = \"x\"\n\n[outputs]\nurl = \"http://${file.b.path}/\"\nsize = \"${file.a.size}\"\nok = \"${file.a.path}\"\n",
        &[
            "infra/main.toml:6:7: output refers to `file.b`, which is not declared",
            "infra/main.toml:7:8: `file.a` has no attribute `size`",
        ],
    );
    // Shape problems are found while loading, each at its place.
    let out = check(
        "[outputs]\nAdmin = \"x\"\ncount = 3\nflag = { value = \"x\", sensitive = \"yes\" }\n",
        &[
            "infra/main.toml:2:1: invalid output name `Admin`",
            "infra/main.toml:3:9: output `count` must be a string, found a number",
            "infra/main.toml:4:35: `sensitive` of output `flag` must be true or false",
        ],
    );
    assert!(out.contains("as for resources"), "{out}");
}

#[test]
fn dependency_cycle() {
    check(
        "[file.a]\npath = \"a\"\ncontent = \"${file.b.path}\"\n\n[file.b]\npath = \"b\"\ncontent = \"x\"\ndepends_on = [\"file.a\"]\n",
        &["dependency cycle: file.a -> file.b", "infra/main.toml:1:7"],
    );
}

#[test]
fn provider_that_does_not_serve_kind() {
    check(
        "[container.c]\nprovider = \"local\"\nhostname = \"c\"\nip = \"10.0.0.2/24\"\n",
        &[
            "provider `local` (file) does not serve kind `container`",
            "infra/main.toml:2:12",
        ],
    );
}

#[test]
fn no_provider_for_kind() {
    check("[dns_record.www]\nzone = \"example.com\"\nname = \"www\"\ntype = \"A\"\ncontent = \"10.0.0.5\"\n", &["no provider serves `dns_record.www`", "infra/main.toml:1:13"]);
}

#[test]
fn undeclared_provider() {
    check(
        "[file.a]\nprovider = \"locl\"\npath = \"a\"\ncontent = \"x\"\n",
        &[
            "uses provider `locl`, which is not declared",
            "did you mean `local`",
        ],
    );
}

#[test]
fn duplicate_ip_in_pool() {
    let env = TestEnv::new();
    env.write(
        "infra.toml",
        "[project]\nname = \"t\"\n[providers.local]\nkind = \"file\"\nroot = \"out\"\n[pools.lan]\ncidr = \"10.0.0.0/24\"\n",
    );
    // container has no provider here; the duplicate-address error must still be reported alongside.
    env.write(
        "infra/main.toml",
        "[container.a]\nhostname = \"a\"\nip = \"10.0.0.5/24\"\n\n[container.b]\nhostname = \"b\"\nip = \"10.0.0.5/24\"\n",
    );
    let run = env.infra(&["validate"]).expect(1);
    assert!(
        run.stderr
            .contains("10.0.0.5 in pool `lan` is used by both `container.a` and `container.b`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("infra/main.toml:7:6"), "{}", run.stderr);
}

#[test]
fn invalid_hostname_and_address() {
    check(
        "[file.a]\npath = \"../../etc/passwd\"\ncontent = \"x\"\n",
        &[
            "`path` must be a relative path without '..'",
            "infra/main.toml:2:8",
        ],
    );
    let env = TestEnv::new();
    env.write("infra.toml", PROVIDER);
    env.write(
        "infra/main.toml",
        "[container.c]\nprovider = \"local\"\nhostname = \"bad;name\"\nip = \"10.0.0.300/24\"\n",
    );
    let run = env.infra(&["validate"]).expect(1);
    assert!(
        run.stderr.contains("`hostname` must be a host name"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`ip` must be an address with prefix length"),
        "{}",
        run.stderr
    );
}

#[test]
fn duplicate_resource_across_files() {
    let env = TestEnv::new();
    env.write("infra.toml", PROVIDER);
    env.write("infra/a.toml", "[file.x]\npath = \"x\"\ncontent = \"1\"\n");
    env.write("infra/b.toml", "[file.x]\npath = \"y\"\ncontent = \"2\"\n");
    let run = env.infra(&["validate"]).expect(1);
    assert!(
        run.stderr.contains("`file.x` is declared twice"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("first declared at infra/a.toml:1:7"),
        "{}",
        run.stderr
    );
}

#[test]
fn literal_secret_in_provider_is_refused() {
    let env = TestEnv::new();
    env.write("infra.toml", "[project]\nname = \"t\"\n[providers.local]\nkind = \"file\"\nroot = \"out\"\ncomment = \"#\"\n[providers.bad]\nkind = \"nosuch\"\n");
    let run = env.infra(&["validate"]).expect(1);
    assert!(
        run.stderr.contains("unknown provider kind `nosuch`"),
        "{}",
        run.stderr
    );
}

#[test]
fn all_errors_reported_in_one_run() {
    let out = check(
        "[file.a]\ncontnet = \"x\"\n\n[file.b]\npath = \"/abs\"\ncontent = \"${file.zz.path}\"\n",
        &[
            "has no attribute `contnet`",
            "missing required attribute `path`",
            "`path` must be a relative path",
            "refers to `file.zz`",
        ],
    );
    assert!(out.matches("Error").count() + out.matches("×").count() >= 1);
    // The summary names the count.
    assert!(
        out.contains("the spec has 5 errors") || out.contains("errors"),
        "{out}"
    );
}

#[test]
fn missing_project_is_a_clear_error() {
    let env = TestEnv::new();
    let run = env.infra(&["validate"]).expect(1);
    assert!(run.stderr.contains("no infra.toml in"), "{}", run.stderr);
    assert!(run.stderr.contains("infra init"), "{}", run.stderr);
}

#[test]
fn unknown_per_resource_setting_is_located_and_named() {
    let env = TestEnv::lab("");
    env.write(
        "infra/main.toml",
        "[container.web]\nhostname = \"web\"\nimage = \"busybox\"\nip = \"127.0.0.1/8\"\n\n[container.web.docker]\nrestart = \"always\"\nrestrat = \"no\"\nlabels = { \"infra.owner\" = \"me\" }\n\n[dns_record.www]\nzone = \"lab.example.com\"\nname = \"www\"\ntype = \"A\"\ncontent = \"127.0.0.1\"\n\n[dns_record.www.powerdns]\nttl = 60\n",
    );
    let before = env.snapshot();
    let run = env.infra(&["validate"]).expect(1);
    for needle in [
        "unknown setting `restrat` in [container.web.docker]",
        "infra/main.toml:8:11",
        "known: restart, labels",
        "unknown setting `ttl` in [dns_record.www.powerdns]",
        "infra/main.toml:18:7",
        "the powerdns provider takes no [dns_record.NAME.powerdns] settings",
        "[container.web.docker] labels: must be a table of strings",
        "infra/main.toml:9:10",
    ] {
        assert!(
            run.stderr.contains(needle),
            "{needle} not in:\n{}",
            run.stderr
        );
    }
    assert_eq!(env.snapshot(), before, "validate must not change anything");
}

#[test]
fn json_lists_every_problem_with_its_place() {
    let env = TestEnv::new();
    env.write("infra.toml", PROVIDER);
    env.write(
        "infra/main.toml",
        "[file.a]\npath = \"a\"\ncontnet = \"x\"\n\n[file.b]\ncontent = \"y\"\n",
    );
    let before = env.snapshot();
    let run = env.infra(&["validate", "--format", "json"]).expect(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.len() >= 2, "{report:#}");
    let unknown = problems
        .iter()
        .find(|p| p["message"].as_str().unwrap().contains("contnet"))
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        (&unknown["file"], &unknown["line"], &unknown["column"]),
        (
            &serde_json::json!("infra/main.toml"),
            &serde_json::json!(3),
            &serde_json::json!(11)
        )
    );
    assert!(unknown["help"].as_str().unwrap().contains("content"));
    assert_eq!(env.snapshot(), before);

    env.write(
        "infra/main.toml",
        "[file.a]\npath = \"a\"\ncontent = \"x\"\n",
    );
    let ok = env.infra(&["validate", "--format", "json"]).expect(0);
    let report: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["resources"], 1);
    assert!(report["problems"].as_array().unwrap().is_empty());
}
