//! Parsing capability files: front matter, trigger lists, examples, every error at
//! its line, and param values (hostile ones rejected, the rest normalised).

use serde_json::{json, Value};

use super::*;

#[test]
fn parses_front_matter_triggers_and_examples() {
    let c = parse("capabilities/x.md", GOOD, Source::Project).unwrap();
    assert_eq!(c.name, "web-thing");
    assert_eq!(c.action, CapAction::Create);
    assert_eq!(c.template.as_deref(), Some("web-thing.toml.j2"));
    assert_eq!(c.template_line, 5);
    assert_eq!(c.triggers, vec!["deploy", "spin up", "stand up", "launch"]);
    let names: Vec<&str> = c.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["name", "port", "ip"], "front-matter order");
    assert_eq!(
        c.params[1].default,
        Some(json!(8080)),
        "defaults are normalised"
    );
    assert_eq!(c.params[2].pool.as_deref(), Some("lan"));
    assert_eq!(c.examples.len(), 3, "fenced code is not parsed");
    assert_eq!(c.examples[0].line, line_of(GOOD, "API scanner"));
    assert_eq!(
        c.examples[1].expect["port"],
        json!(3000),
        "expectations are normalised"
    );
    assert!(c.examples[2].declined);
    assert!(c.body.starts_with("# Web thing") && !c.body.contains("+++"));
    let doc = c.doc();
    assert_eq!(doc.params[0].ty, "name");
    assert_eq!(
        doc.examples.len(),
        2,
        "declined examples are not offered to models"
    );
}

#[test]
fn triggers_heading_variants() {
    for h in ["## Triggers", "## Aliases", "### Aliases / Triggers:"] {
        let c = parse(
            "x.md",
            &good_with("## Aliases/Triggers", h),
            Source::Builtin,
        )
        .unwrap();
        assert!(c.triggers.contains(&"stand up".to_string()), "{h}");
    }
}

#[test]
fn every_error_at_its_line() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (replace, with, expected message part, line containing)
        (
            "summary = \"A thing\"",
            "summary = \"A thing",
            "TOML",
            "summary =",
        ),
        (
            "summary = \"A thing\"",
            "summary = \"A thing\"\ntriger = [\"x\"]",
            "did you mean `triggers`",
            "triger",
        ),
        (
            "type = \"port\"",
            "type = \"prot\"",
            "did you mean \"port\"",
            "prot",
        ),
        (
            "type = \"port\"",
            "type = \"prot\"",
            "valid types: name, port",
            "prot",
        ),
        (
            "default = \"8080\"",
            "default = 70000",
            "out of range",
            "70000",
        ),
        (
            "default = \"8080\"",
            "defualt = 8080",
            "did you mean `default`",
            "defualt",
        ),
        (
            "name = \"web-thing\"",
            "name = \"Web Thing\"",
            "is not a name",
            "Web Thing",
        ),
        (
            "- \"Create a new API scanner thing\" → name = \"api-scanner\"",
            "- Create a thing → name = \"x\"",
            "double quotes",
            "Create a thing →",
        ),
        (
            "- \"Create a new API scanner thing\" → name = \"api-scanner\"",
            "- \"Create a thing\" → name = ",
            "TOML",
            "Create a thing",
        ),
        (
            "- \"Create a new API scanner thing\" → name = \"api-scanner\"",
            "- \"Create a thing\" → nmae = \"x\"",
            "did you mean `name`",
            "nmae",
        ),
        (
            "- \"Create a new API scanner thing\" → name = \"api-scanner\"",
            "- \"Create\" → name = \"API-Scanner\"",
            "try \"api-scanner\"",
            "API-Scanner",
        ),
        (
            "- \"Deploy grafana on port 3000\" -> name = \"grafana\", port = \"3000\"",
            "- \"Deploy\" -> port = 99999",
            "out of range",
            "99999",
        ),
        (
            "- \"Create a thing\" → (declined)",
            "- \"Create a thing\"",
            "followed by →",
            "\"Create a thing\"",
        ),
        (
            "template = \"web-thing.toml.j2\"",
            "template = \"../etc/passwd\"",
            "not a file name",
            "passwd",
        ),
        (
            "template = \"web-thing.toml.j2\"",
            "template = \"t.j2\"\naction = \"delete\"",
            "unknown action",
            "delete",
        ),
        (
            "template = \"web-thing.toml.j2\"",
            "template = \"t.j2\"\naction = \"remove\"",
            "remove capability has no template",
            "template =",
        ),
        (
            "pool = \"lan\"",
            "pool = \"lan\"\n[params.bad-name]\ntype = \"int\"",
            "must be lowercase letters, digits and '_'",
            "bad-name",
        ),
        (
            "required = true",
            "required = true\ndefault = \"x\"",
            "would never be used",
            "default = \"x\"",
        ),
    ];
    for (from, to, msg, at) in cases {
        let text = good_with(from, to);
        let e = errs(&text);
        let want_line = line_of(&text, at);
        assert!(
            e.iter().any(|e| e.line == want_line
                && (e.message.contains(msg) || e.help.as_deref().is_some_and(|h| h.contains(msg)))),
            "replacing {from:?} with {to:?}: want {msg:?} at line {want_line}, got {e:#?}"
        );
        assert!(e.iter().all(|e| e.path == "capabilities/x.md"));
    }
}

#[test]
fn file_level_errors() {
    assert_eq!(errs("# no front matter\n")[0].line, 1);
    assert!(errs("+++\nname = \"x\"\n")[0]
        .message
        .contains("not closed"));
    let e = errs(&good_with("template = \"web-thing.toml.j2\"\n", ""));
    assert!(
        e.iter().any(|e| e.message.contains("no `template`")),
        "{e:?}"
    );
    let e = errs(&good_with("summary = \"A thing\"\n", ""));
    assert!(e.iter().any(|e| e.message.contains("no `summary`")));
    let e = errs(&good_with("type = \"address\"\n", ""));
    assert!(e
        .iter()
        .any(|e| e.message.contains("has no `type`") && e.line == line_of(GOOD, "[params.ip]")));
    // Several problems are reported together, in line order; a bad example line is
    // reported even when the front matter has errors too.
    let e = errs(
        &good_with("type = \"port\"", "type = \"prot\"")
            .replace(
                "description = \"short name\"",
                "descripton = \"short name\"",
            )
            .replace("- \"Create a thing\" → (declined)", "- Create a thing"),
    );
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e.windows(2).all(|w| w[0].line < w[1].line));
    // One malformed example line does not stop the others being checked.
    let text = good_with("- \"Create a thing\" → (declined)", "- Create a thing")
        .replace("name = \"grafana\", ", "nmae = \"grafana\", ");
    let e = errs(&text);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(e[0].line, line_of(&text, "nmae"));
    // A file without examples is fine.
    let text = GOOD.split("## Aliases").next().unwrap();
    assert!(parse("x.md", text, Source::Project)
        .unwrap()
        .examples
        .is_empty());
}

#[test]
fn hostile_param_values_are_rejected() {
    let bad: &[(ParamType, Value)] = &[
        (ParamType::Name, json!("../etc")),
        (ParamType::Name, json!("api;rm -rf /")),
        (ParamType::Name, json!("a\nb")),
        (ParamType::Name, json!("API-Scanner")),
        (ParamType::Name, json!("under_score")),
        (ParamType::Name, json!(5)),
        (ParamType::Port, json!(0)),
        (ParamType::Port, json!(65536)),
        (ParamType::Port, json!("80; reboot")),
        (ParamType::Port, json!(-1)),
        (ParamType::Cores, json!(513)),
        (ParamType::Memory, json!(8)),
        (ParamType::Memory, json!("2 PB")),
        (ParamType::Disk, json!(70000)),
        (ParamType::Fqdn, json!("localhost")),
        (ParamType::Fqdn, json!("a.example.com; include /etc/passwd")),
        (ParamType::Fqdn, json!("10.0.0.5")),
        (ParamType::Hostname, json!("host name")),
        (ParamType::Ip, json!("10.0.0.256")),
        (ParamType::Address, json!("10.0.0.5/33")),
        (ParamType::Url, json!("ftp://x.example.com/")),
        (ParamType::Url, json!("http://x/${container.db.env}")),
        (ParamType::Url, json!("http://x.example.com/a\"b")),
        (ParamType::Url, json!("http://x.example.com/../../etc")),
        (
            ParamType::Url,
            json!("http://x.example.com/;proxy_pass http://evil"),
        ),
        (ParamType::Url, json!("http://bad host/")),
        (ParamType::RecordType, json!("BOGUS")),
        (ParamType::Target, json!("container.../x")),
        (ParamType::Target, json!("secrets.db")),
        (ParamType::Target, json!("group:Bad Name")),
        (ParamType::Image, json!("../../etc/shadow")),
        (ParamType::Image, json!("debian`id`")),
        (ParamType::Image, json!("/abs/path")),
        (ParamType::Text, json!("a\\b")),
        (ParamType::Text, json!("${container.x.address}")),
        (ParamType::Text, json!("} server { listen 80")),
        (ParamType::Text, json!("line\nbreak")),
        (ParamType::Text, json!("it's")),
        (ParamType::Text, json!("../../etc/passwd")),
        (ParamType::Int, json!("12abc")),
        (ParamType::Int, json!(1.5)),
        (ParamType::Bool, json!("maybe")),
    ];
    for (ty, v) in bad {
        let r = ty.check(v);
        assert!(r.is_err(), "{} accepted {v}: {r:?}", ty.as_str());
        assert!(!r.unwrap_err().is_empty());
    }
}

#[test]
fn param_values_are_normalised() {
    let ok: &[(ParamType, Value, Value)] = &[
        (ParamType::Port, json!("3000"), json!(3000)),
        (ParamType::Memory, json!("2 GB"), json!(2048)),
        (ParamType::Memory, json!("512MiB"), json!(512)),
        (ParamType::Disk, json!("1TB"), json!(1024)),
        (ParamType::Cores, json!(2.0), json!(2)),
        (
            ParamType::Fqdn,
            json!("Grafana.Example.com."),
            json!("grafana.example.com"),
        ),
        (ParamType::RecordType, json!("cname"), json!("CNAME")),
        (ParamType::RecordType, json!("srv"), json!("SRV")),
        // CAA and TXT contents hold quotes and semicolons; text is always emitted escaped.
        (
            ParamType::Text,
            json!("0 issue \"letsencrypt.org\""),
            json!("0 issue \"letsencrypt.org\""),
        ),
        (
            ParamType::Address,
            json!("10.0.0.5/24"),
            json!("10.0.0.5/24"),
        ),
        (ParamType::Address, json!("10.0.0.5"), json!("10.0.0.5")),
        (
            ParamType::Url,
            json!("http://[fd00::1]:8080/"),
            json!("http://[fd00::1]:8080/"),
        ),
        (
            ParamType::Target,
            json!("dns_record.nas"),
            json!("dns_record.nas"),
        ),
        (
            ParamType::Target,
            json!("group:api-scanner"),
            json!("group:api-scanner"),
        ),
        (
            ParamType::Image,
            json!("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"),
            json!("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"),
        ),
        (
            ParamType::Text,
            json!("v=DMARC1; p=none"),
            json!("v=DMARC1; p=none"),
        ),
        (ParamType::Bool, json!("yes"), json!(true)),
    ];
    for (ty, v, want) in ok {
        assert_eq!(ty.check(v).as_ref(), Ok(want), "{} {v}", ty.as_str());
    }
    let msg = ParamType::Name.check(&json!("API-Scanner")).unwrap_err();
    assert!(msg.contains("try \"api-scanner\""), "{msg}");
}
