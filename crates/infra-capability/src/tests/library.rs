//! The library: built-ins, project overrides, bad files isolated, every built-in
//! template rendered and held against the kind schemas, the scaffold, the runner hook.

use serde_json::{json, Value};

use super::*;

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        fs_err::write(p, text).unwrap();
    }
    dir
}

#[test]
fn builtin_library_loads_cleanly() {
    let lib = Library::builtin();
    assert!(lib.errors.is_empty(), "{:#?}", lib.errors);
    for name in [
        "web-service",
        "container",
        "dns-record",
        "reverse-proxy",
        "monitor",
        "resize",
        "remove",
    ] {
        let c = lib.get(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(c.source, Source::Builtin);
        assert!(
            (4..=8).contains(&c.examples.len()),
            "{name} has {} examples",
            c.examples.len()
        );
        assert!(c.triggers.len() >= 5, "{name}");
        if let Some(t) = &c.template {
            assert!(lib.template(t).is_some(), "{name}: {t}");
        }
    }
    assert_eq!(lib.get("resize").unwrap().action, CapAction::Update);
    assert_eq!(lib.get("remove").unwrap().action, CapAction::Remove);
}

#[test]
fn project_files_override_and_extend_by_name() {
    let own = GOOD
        .replace("web-thing", "web-service")
        .replace("A thing", "Our own web service");
    let dir = project(&[
        ("capabilities/ours.md", &own),
        (
            "templates/web-service.toml.j2",
            "[file.{{ name }}]\npath = \"x\"\ncontent = \"y\"\n",
        ),
        (
            "capabilities/extra.md",
            &GOOD.replace("web-thing.toml.j2", "extra.toml.j2"),
        ),
        (
            "templates/extra.toml.j2",
            "[file.{{ name }}]\npath = \"x\"\ncontent = \"y\"\n",
        ),
    ]);
    let lib = Library::load(Some(dir.path()));
    assert!(lib.errors.is_empty(), "{:#?}", lib.errors);
    let ws = lib.get("web-service").unwrap();
    assert_eq!(
        (ws.source, ws.summary.as_str(), ws.path.as_str()),
        (
            Source::Project,
            "Our own web service",
            "capabilities/ours.md"
        )
    );
    assert!(lib
        .template("web-service.toml.j2")
        .unwrap()
        .starts_with("[file."));
    assert_eq!(
        lib.template_paths["web-service.toml.j2"],
        "templates/web-service.toml.j2"
    );
    assert_eq!(lib.get("web-thing").unwrap().source, Source::Project);
    assert_eq!(lib.get("container").unwrap().source, Source::Builtin);
    assert_eq!(lib.caps.len(), 10);
    assert!(check(&lib, None).ok(), "{:#?}", check(&lib, None).errors);
}

#[test]
fn one_bad_file_does_not_break_the_others() {
    let broken = good_with("type = \"port\"", "type = \"prot\"").replace("web-thing", "monitor");
    let missing_tpl = GOOD.replace("web-thing", "lonely");
    let dir = project(&[
        ("capabilities/a-broken.md", &broken),
        ("capabilities/b-lonely.md", &missing_tpl),
        (
            "capabilities/c-dup.md",
            &GOOD.replace("web-thing.toml.j2", "container.toml.j2"),
        ),
        (
            "capabilities/d-dup.md",
            &GOOD.replace("web-thing.toml.j2", "container.toml.j2"),
        ),
        ("capabilities/notes.txt", "ignored"),
    ]);
    let lib = Library::load(Some(dir.path()));
    let at = |path: &str| {
        lib.errors
            .iter()
            .filter(|e| e.path == path)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at("capabilities/a-broken.md")[0].line,
        line_of(&broken, "prot")
    );
    assert_eq!(
        lib.get("monitor").unwrap().source,
        Source::Builtin,
        "the broken override leaves the built-in"
    );
    let lonely = at("capabilities/b-lonely.md");
    assert!(
        lonely[0]
            .message
            .contains("template `lonely.toml.j2` not found")
            && lonely[0].line == 5,
        "{lonely:?}"
    );
    assert!(at("capabilities/d-dup.md")[0]
        .message
        .contains("also defined in capabilities/c-dup.md"));
    assert!(lib.get("web-thing").is_some() && lib.get("lonely").is_some());
    assert_eq!(lib.caps.len(), 11);
    assert_eq!(lib.errors.len(), 3, "{:#?}", lib.errors);
}

#[test]
fn every_builtin_template_renders_to_valid_resources() {
    let lib = Library::builtin();
    let report = check(&lib, None);
    assert!(
        report.ok(),
        "{}",
        report
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let with_templates = lib.caps.iter().filter(|c| c.template.is_some()).count();
    let examples: usize = lib
        .caps
        .iter()
        .filter(|c| c.template.is_some())
        .map(|c| c.examples.iter().filter(|e| !e.declined).count())
        .sum();
    assert_eq!(
        report.renders, examples,
        "every capability with a template has examples"
    );
    assert!(examples > with_templates);
    assert_eq!(report.examples_run, 0);
}

fn render_builtin(cap: &str, given: Value) -> String {
    let lib = Library::builtin();
    let c = lib.get(cap).unwrap();
    let given = c.check_params(given.as_object().unwrap()).unwrap();
    let ctx = sample_context(c, &given);
    let env = environment(&lib.templates);
    let out = env
        .get_template(c.template.as_ref().unwrap())
        .unwrap()
        .render(minijinja::Value::from(minijinja::value::Serde(&ctx)))
        .unwrap();
    assert_eq!(
        check_rendered(&out, c.action),
        Vec::<String>::new(),
        "{out}"
    );
    out
}

#[test]
fn web_service_renders_the_api_scanner() {
    let out = render_builtin("web-service", json!({ "name": "api-scanner" }));
    let t: toml::Table = toml::from_str(&out).unwrap();
    let ct = &t["container"]["api-scanner"];
    assert_eq!(ct["ip"].as_str(), Some("10.0.0.50/24"));
    assert_eq!(ct["memory"].as_integer(), Some(512));
    assert_eq!(ct["group"].as_str(), Some("api-scanner"));
    let dns = &t["dns_record"]["api-scanner"];
    assert_eq!(
        dns["content"].as_str(),
        Some("${container.api-scanner.address}")
    );
    assert_eq!(
        (dns["zone"].as_str(), dns["name"].as_str()),
        (Some("example.com"), Some("api-scanner.lab"))
    );
    assert_eq!(dns["proxied"].as_bool(), Some(false));
    let site = &t["proxy_site"]["api-scanner"];
    assert_eq!(
        site["upstream"].as_str(),
        Some("http://${container.api-scanner.address}:8080")
    );
    assert_eq!(site["allow"].as_array().unwrap().len(), 4);
    assert_eq!(
        t["monitor"]["api-scanner"]["url"].as_str(),
        Some("http://api-scanner.lab.example.com/")
    );
    let public = render_builtin(
        "web-service",
        json!({ "name": "www", "internal": false, "port": "3000" }),
    );
    assert!(
        !public.contains("allow") && public.contains(":3000\""),
        "{public}"
    );
}

#[test]
fn dns_records_and_resize_render_what_was_asked() {
    let mx = render_builtin(
        "dns-record",
        json!({ "name": "mail", "type": "mx", "content": "mx1.example.com" }),
    );
    assert!(
        mx.contains("priority = 10") && !mx.contains("proxied"),
        "{mx}"
    );
    let private = render_builtin(
        "dns-record",
        json!({ "name": "nas", "content": "192.168.1.20", "proxied": true }),
    );
    assert!(
        private.contains("proxied = false"),
        "private addresses are never proxied: {private}"
    );
    let public = render_builtin(
        "dns-record",
        json!({ "name": "www", "content": "203.0.113.7", "proxied": true }),
    );
    assert!(public.contains("proxied = true"), "{public}");
    let r = render_builtin("resize", json!({ "name": "api-scanner", "memory": "2 GB" }));
    let t: toml::Table = toml::from_str(&r).unwrap();
    assert_eq!(
        t["container"]["api-scanner"].as_table().unwrap().len(),
        1,
        "{r}"
    );
    assert_eq!(
        t["container"]["api-scanner"]["memory"].as_integer(),
        Some(2048)
    );
    let r = render_builtin("resize", json!({ "name": "vm.builder", "cores": 4 }));
    assert!(r.contains("[vm.builder]"), "{r}");
}

#[test]
fn scaffold_passes_check_and_refuses_bad_names() {
    let (md, tpl) = scaffold("motd-file").unwrap();
    let dir = project(&[
        ("capabilities/motd-file.md", &md),
        ("templates/motd-file.toml.j2", &tpl),
    ]);
    let lib = Library::load(Some(dir.path()));
    let report = check(&lib, None);
    assert!(report.ok(), "{:#?}", report.errors);
    assert_eq!(lib.get("motd-file").unwrap().source, Source::Project);
    assert!(scaffold("../evil").is_err() && scaffold("Bad").is_err());
}

struct Recorder {
    seen: Vec<String>,
}

impl ExampleRunner for Recorder {
    fn run(&mut self, cap: &Capability, ex: &Example) -> Result<(), String> {
        self.seen.push(format!("{}:{}", cap.name, ex.request));
        if ex.request.contains("grafana on port 3000") {
            Err("got port = 8080".into())
        } else {
            Ok(())
        }
    }
}

#[test]
fn check_calls_the_example_runner_per_example() {
    let lib = Library::builtin();
    let mut r = Recorder { seen: Vec::new() };
    let report = check(&lib, Some(&mut r));
    let total: usize = lib.caps.iter().map(|c| c.examples.len()).sum();
    assert_eq!(
        (r.seen.len(), report.examples_run, report.examples_total),
        (total, total, total)
    );
    assert_eq!(report.errors.len(), 1);
    let e = &report.errors[0];
    assert_eq!(e.path, "builtin:capabilities/web-service.md");
    assert!(e.message.contains("got port = 8080") && e.line > 1, "{e}");
}

#[test]
fn capability_errors_print_as_path_line_message() {
    let e = CapError::new("capabilities/x.md", 7, "boom").help("fix it");
    assert_eq!(e.to_string(), "capabilities/x.md:7: boom\n  help: fix it");
}
