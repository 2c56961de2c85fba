//! Project capabilities: a new markdown file plus a template is a new thing `ask`
//! can do, with no Rust code; broken files are reported by file and line and do
//! not break the others; a project file overrides a built-in by name.

mod common;
use common::TestEnv;

const PAGE_MD: &str = include_str!("../examples/capabilities/static-page.md");
const PAGE_TPL: &str = include_str!("../examples/capabilities/static-page.toml.j2");

fn project_with_page() -> TestEnv {
    let env = TestEnv::example();
    env.write("capabilities/static-page.md", PAGE_MD);
    env.write("templates/static-page.toml.j2", PAGE_TPL);
    env.commit_all("static-page capability");
    env
}

#[test]
fn the_readme_worked_example() {
    let env = project_with_page();
    let check = env.infra(&["capabilities", "check"]).expect(0);
    assert!(check.stdout.contains("10 capabilities"), "{}", check.stdout);
    let list = env.infra(&["capabilities", "list"]).expect(0);
    assert!(
        list.stdout.contains("static-page") && list.stdout.contains("project"),
        "{}",
        list.stdout
    );
    env.infra(&["ask", "Add a page called soon with title \"Back soon\""])
        .expect(0);
    assert!(env
        .git(&["log", "-1", "--format=%B"])
        .stdout
        .contains("Infra-Capability: static-page"));
    env.infra(&["apply", "--yes"]).expect(0);
    assert!(env.read("out/soon.html").contains("<h1>Back soon</h1>"));
}

#[test]
fn a_broken_file_is_named_and_the_rest_still_work() {
    let env = project_with_page();
    env.write("capabilities/broken.md", "+++\nname = \"broken\"\nsummary = \"x\"\ntemplate = \"nope.toml.j2\"\ncolour = 1\n+++\n# Broken\n");
    env.commit_all("broken capability");
    let check = env.infra(&["capabilities", "check"]).expect(1);
    assert!(
        check.all().contains("capabilities/broken.md:5"),
        "{}",
        check.all()
    );
    let list = env.infra(&["capabilities", "list"]);
    assert!(list.stdout.contains("static-page"), "{}", list.stdout);
    // ask still works with the good ones, and says what it skipped.
    let run = env.infra(&["ask", "Add a page called later"]).expect(0);
    assert!(run.stderr.contains("broken.md"), "{}", run.stderr);
}

#[test]
fn a_project_file_overrides_a_builtin_by_name() {
    let env = TestEnv::example();
    env.write(
        "capabilities/monitor.md",
        "+++\nname = \"monitor\"\nsummary = \"Our own monitor: a marker file\"\ntriggers = [\"monitor\"]\ntemplate = \"monitor.toml.j2\"\n[params.name]\ntype = \"name\"\nrequired = true\ndescription = \"what\"\n+++\n# Monitor (ours)\n\n## Examples\n- \"Monitor the shop called shop\" → name = \"shop\"\n",
    );
    env.write("templates/monitor.toml.j2", "[file.{{ name }}-monitor]\ngroup = {{ group | toml }}\npath = {{ (name ~ \".monitor\") | toml }}\ncontent = \"watch\"\n");
    env.commit_all("override");
    let show = env.infra(&["capabilities", "show", "monitor"]).expect(0);
    assert!(show.stdout.contains("Our own monitor"), "{}", show.stdout);
    env.infra(&["capabilities", "check"]).expect(0);
    env.infra(&["ask", "Monitor the shop called shop"])
        .expect(0);
    assert!(env.read("infra/shop.toml").contains("[file.shop-monitor]"));
}

#[test]
fn new_scaffolds_a_capability_that_passes_check() {
    let env = TestEnv::example();
    env.infra(&["capabilities", "new", "motd-file"]).expect(0);
    assert!(env.exists("capabilities/motd-file.md") && env.exists("templates/motd-file.toml.j2"));
    env.infra(&["capabilities", "check"]).expect(0);
    env.infra(&["capabilities", "new", "motd-file"]).expect(1);
    env.infra(&["capabilities", "new", "Bad Name"]).expect(1);
}
