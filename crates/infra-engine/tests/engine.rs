//! The engine end to end against the in-memory provider: plan → execute → journal
//! → state, with faults on demand (transient failures, rejections, a crash after N
//! writes). No CLI, no git, no network.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use infra_core::state::{self, State};
use infra_engine::apply::reporter::Silent;
use infra_engine::apply::{Op, Outcome};
use infra_engine::cycle::Apply;
use infra_engine::project::{PlanOptions, Project};
use infra_kit::memory::{self, Call, Memory};
use infra_kit::{ProviderError, ProviderFactory, Registry};
use infra_plan::Action;

static FACTORIES: &[ProviderFactory] = &[memory::FACTORY];

fn project_dir(records: &[(&str, &str)], extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("infra.toml"),
        "[project]\nname = \"t\"\n\n[providers.mem]\nkind = \"memory\"\n",
    )
    .unwrap();
    let mut spec = String::new();
    for (name, content) in records {
        spec.push_str(&format!(
            "[dns_record.{name}]\nzone = \"example.com\"\nname = \"{name}\"\ntype = \"A\"\ncontent = \"{content}\"\n\n"
        ));
    }
    spec.push_str(extra);
    std::fs::create_dir_all(dir.path().join("infra")).unwrap();
    std::fs::write(dir.path().join("infra/main.toml"), spec).unwrap();
    dir
}

fn open(root: &Path) -> Project {
    Project::open(root, Registry::new(FACTORIES), false).unwrap()
}

fn memory_of(root: &Path) -> Memory {
    Memory::shared(root, "mem", "t")
}

fn plan_opts() -> PlanOptions {
    PlanOptions {
        refresh: true,
        targets: vec![],
        replace: vec![],
        destroy: false,
        spec_commit: None,
        skip_audit: false,
    }
}

/// One apply as the CLI runs it (without the confirmation and the commit): the
/// outcome and the state as saved.
async fn apply(root: &Path) -> (Outcome, State) {
    let mut project = open(root);
    let providers = project.providers().unwrap();
    let planned = project
        .plan_with_live(&plan_opts(), &providers)
        .await
        .unwrap();
    std::fs::create_dir_all(root.join(state::STATE_DIR)).unwrap();
    let staged = Apply::prepare(&project, &planned, true);
    let report = staged
        .run(
            &mut project,
            &planned.plan,
            &planned.desired,
            &providers,
            Arc::new(Silent),
            10,
        )
        .await
        .unwrap();
    (report.outcome, state::load(root).unwrap().state)
}

async fn actions(root: &Path) -> Vec<(String, Action)> {
    let project = open(root);
    let providers = project.providers().unwrap();
    let plan = project.plan(&plan_opts(), &providers).await.unwrap();
    plan.actions()
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

#[tokio::test]
async fn creates_are_recorded_and_the_next_plan_is_empty() {
    let dir = project_dir(&[("www", "192.0.2.1"), ("api", "192.0.2.2")], "");
    let (outcome, saved) = apply(dir.path()).await;
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.done.len(), 2);
    let live = memory_of(dir.path()).lock().objects.clone();
    assert_eq!(live.len(), 2);
    for (address, r) in &saved.resources {
        let (_, marker, _) = &live[&r.id];
        assert_eq!(
            marker.as_deref(),
            Some(format!("infra:t/{address}").as_str())
        );
    }
    assert!(actions(dir.path()).await.is_empty(), "nothing left to do");
}

#[tokio::test]
async fn transient_failures_are_retried_by_the_engine() {
    let dir = project_dir(&[("www", "192.0.2.1")], "");
    // The first two creates meet a 503.
    memory_of(dir.path()).lock().faults.transient_writes = 2;
    let (outcome, _) = apply(dir.path()).await;
    assert!(outcome.ok(), "{outcome:?}");
    let calls = memory_of(dir.path()).lock().calls.clone();
    let creates = calls
        .iter()
        .filter(|c| matches!(c, Call::Create(_)))
        .count();
    assert_eq!(creates, 3, "{calls:?}");
    assert_eq!(memory_of(dir.path()).lock().objects.len(), 1);
}

#[tokio::test]
async fn refresh_reads_are_retried_with_the_same_policy() {
    let dir = project_dir(&[("www", "192.0.2.1")], "");
    memory_of(dir.path()).lock().faults.transient = 2;
    let planned = actions(dir.path()).await;
    assert_eq!(planned, [("dns_record.www".to_string(), Action::Create)]);
    let calls = memory_of(dir.path()).lock().calls.clone();
    assert_eq!(calls, vec![Call::List("dns_record".into()); 3]);
}

#[tokio::test]
async fn a_provider_with_retries_0_fails_at_the_first_transient_error() {
    let dir = project_dir(&[("www", "192.0.2.1")], "");
    let toml = dir.path().join("infra.toml");
    let text = std::fs::read_to_string(&toml).unwrap() + "retries = 0\n";
    std::fs::write(&toml, text).unwrap();
    memory_of(dir.path()).lock().faults.transient = 1;
    let project = open(dir.path());
    let providers = project.providers().unwrap();
    let err = project.plan(&plan_opts(), &providers).await.unwrap_err();
    assert!(err.message.contains("503"), "{}", err.message);
    assert_eq!(memory_of(dir.path()).lock().calls.len(), 1);
}

#[tokio::test]
async fn a_rejected_change_fails_alone_and_skips_what_depends_on_it() {
    let dir = project_dir(
        &[("www", "192.0.2.1"), ("api", "192.0.2.2")],
        "[dns_record.alias]\nzone = \"example.com\"\nname = \"alias\"\ntype = \"CNAME\"\ncontent = \"api.example.com\"\ndepends_on = [\"dns_record.api\"]\n",
    );
    memory_of(dir.path())
        .lock()
        .faults
        .reject
        .insert("dns_record.api".into());
    let (outcome, saved) = apply(dir.path()).await;
    assert_eq!(
        outcome
            .failed
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["dns_record.api"]
    );
    assert!(
        outcome.failed[0].2.contains("400 Bad Request"),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.skipped,
        [("dns_record.alias".to_string(), Op::Create)]
    );
    assert_eq!(outcome.done, [("dns_record.www".to_string(), Op::Create)]);
    assert!(saved.resources.contains_key("dns_record.www"));
    assert!(!saved.resources.contains_key("dns_record.api"));
    let calls = memory_of(dir.path()).lock().calls.clone();
    assert!(
        !calls.contains(&Call::Create("dns_record.alias".into())),
        "a skipped change is never sent: {calls:?}"
    );
}

#[tokio::test]
async fn a_crash_mid_apply_loses_nothing_that_happened() {
    let dir = project_dir(
        &[("a", "192.0.2.1"), ("b", "192.0.2.2"), ("c", "192.0.2.3")],
        "",
    );
    let mem = memory_of(dir.path());
    mem.lock().faults.crash_after = Some(1);
    // The apply hangs after the first write, as a process killed there would stop;
    // dropping it is the crash.
    let crashed = tokio::time::timeout(Duration::from_millis(300), apply(dir.path())).await;
    assert!(crashed.is_err(), "the apply must not have finished");
    assert!(
        !dir.path().join(state::STATE_FILE).exists(),
        "no state file written"
    );
    mem.lock().faults.crash_after = None;

    // The journal holds the one finished create; the next run reads it back.
    let loaded = state::load(dir.path()).unwrap();
    assert_eq!(loaded.replayed, 1);
    assert_eq!(loaded.state.resources.len(), 1);
    let left = actions(dir.path()).await;
    assert_eq!(
        left.len(),
        2,
        "only the two creates that never ran: {left:?}"
    );
    assert!(left.iter().all(|(_, a)| *a == Action::Create));

    let (outcome, saved) = apply(dir.path()).await;
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(saved.resources.len(), 3);
    assert_eq!(mem.lock().objects.len(), 3, "nothing created twice");
}

#[tokio::test]
async fn an_object_created_but_never_recorded_is_adopted_by_its_marker() {
    let dir = project_dir(&[("www", "192.0.2.1")], "");
    let mem = memory_of(dir.path());
    let mut attrs = infra_core::spec::Attrs::new();
    for (k, v) in [
        ("zone", "example.com"),
        ("name", "www"),
        ("type", "A"),
        ("content", "192.0.2.1"),
    ] {
        attrs.insert(k.into(), v.into());
    }
    mem.lock().objects.insert(
        "m-99".into(),
        (
            "dns_record".into(),
            Some("infra:t/dns_record.www".into()),
            attrs,
        ),
    );
    let left = actions(dir.path()).await;
    assert!(
        left.iter().all(|(_, a)| *a != Action::Create),
        "the marked object is ours, not created again: {left:?}"
    );
    let (outcome, saved) = apply(dir.path()).await;
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(saved.resources["dns_record.www"].id, "m-99");
    assert_eq!(mem.lock().objects.len(), 1);
}

#[tokio::test]
async fn an_object_without_the_marker_is_never_deleted() {
    // The state points at an object that carries no marker of this project (an
    // import gone wrong, a hand edit); the spec no longer declares it.
    let dir = project_dir(&[], "");
    let mem = memory_of(dir.path());
    let mut attrs = infra_core::spec::Attrs::new();
    attrs.insert("name".into(), "legacy".into());
    mem.insert_foreign("dns_record", "m-1", attrs.clone());
    let mut recorded = State::new();
    recorded.resources.insert(
        "dns_record.legacy".into(),
        infra_core::state::ResourceState {
            kind: "dns_record".into(),
            provider: "mem".into(),
            id: "m-1".into(),
            attrs,
            depends_on: vec![],
            group: None,
            settings: None,
            unmarked: false,
        },
    );
    state::save(dir.path(), &recorded).unwrap();
    // The refresh finds the recorded id unmarked: the plan stops, naming both.
    let project = open(dir.path());
    let providers = project.providers().unwrap();
    let err = project.plan(&plan_opts(), &providers).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("dns_record.legacy")
            && text.contains("carries no marker")
            && text.contains("m-1"),
        "{text}"
    );
    assert!(
        mem.lock().objects.contains_key("m-1"),
        "the object is still there"
    );
    // The provider holds the same rule on its own (a marker changed between the
    // refresh and the delete): the marker must name this very address.
    let e = providers["mem"]
        .delete("dns_record", "m-1", "dns_record.legacy")
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::NotOwned(_)), "{e}");
    assert!(mem.lock().objects.contains_key("m-1"));
}

#[tokio::test]
async fn a_record_naming_anothers_object_stops_the_plan() {
    let dir = project_dir(&[("www", "192.0.2.1"), ("api", "192.0.2.2")], "");
    apply(dir.path()).await;
    let mut recorded = state::load(dir.path()).unwrap().state;
    let api_id = recorded.resources["dns_record.api"].id.clone();
    recorded.resources.get_mut("dns_record.www").unwrap().id = api_id.clone();
    state::save(dir.path(), &recorded).unwrap();
    let project = open(dir.path());
    let providers = project.providers().unwrap();
    let err = project.plan(&plan_opts(), &providers).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`dns_record.www`") && text.contains("`dns_record.api`"),
        "{text}"
    );
    let e = providers["mem"]
        .delete("dns_record", &api_id, "dns_record.www")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::NotOwned(m) if m.contains("dns_record.api")),
        "{e}"
    );
}

#[tokio::test]
async fn a_value_from_a_reference_is_audited_when_the_plan_resolves_it() {
    let dir = project_dir(
        &[],
        "[file.label]\npath = \"label.txt\"\ncontent = \"Www\"\n\n[dns_record.www]\nzone = \"example.com\"\nname = \"${file.label.content}\"\ntype = \"A\"\ncontent = \"192.0.2.1\"\n",
    );
    // Validation passes: the name is not known until the plan resolves it.
    let project = open(dir.path());
    let providers = project.providers().unwrap();
    let err = project.plan(&plan_opts(), &providers).await.unwrap_err();
    let detail = err.detail.clone().unwrap_or_default();
    assert!(
        detail.contains("dns_record.www") && detail.contains("names are lowercase"),
        "{}\n{detail}",
        err.message
    );
    assert!(
        memory_of(dir.path())
            .lock()
            .calls
            .iter()
            .all(|c| matches!(c, Call::List(_))),
        "nothing is written"
    );
}
