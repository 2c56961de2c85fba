//! `infra import ADDR ID`: adopt an existing object, as Terraform's import does.
//! The address must be declared in the spec; the provider writes its marker into
//! the object, and the state records it.

use std::path::Path;

use super::shared_state::{publish, share};
use crate::apply::lock::Lock;
use crate::cli::args::ImportArgs;
use crate::cli::output::Ui;
use crate::error::{Error, Result};
use crate::git::{self, Repo};
use crate::project::Project;
use crate::providers::registry;
use crate::spec::Address;
use crate::state::{self, ResourceState};

pub fn run(cwd: &Path, args: ImportArgs, ui: &Ui) -> Result<i32> {
    let root = super::root(cwd)?;
    let repo = if args.no_commit {
        None
    } else {
        Some(Repo::open(&root)?)
    };
    if let Some(r) = &repo {
        r.current_branch()?;
    }
    let _lock = Lock::acquire(&root, "infra import")?;
    let project = Project::open(&root, registry(), ui.color)?;
    let mut shared = share(repo.as_ref(), &project.spec.state, false, "infra import")?;
    let addr = Address::parse(&args.address)
        .ok_or_else(|| Error::new(format!("`{}` is not a resource address", args.address)))?;
    let resource = project.spec.resource(&addr).ok_or_else(|| {
        Error::new(format!("{} is not declared in the spec", args.address))
            .hint("declare the resource first, then import the live object into it")
    })?;
    if project.state.state.resources.contains_key(&args.address) {
        return Err(
            Error::new(format!("{} is already in the state", args.address))
                .hint("`infra state rm` it first to import another object"),
        );
    }
    let pname = project.provider_name(resource);
    let providers = project.providers()?;
    let provider = providers[&pname].clone();
    // The provider writes its marker into the object: a live change.
    if let Some(s) = &mut shared {
        s.arm()?;
    }
    let observed = super::runtime()?
        .block_on(provider.adopt(&addr.kind, &args.id, &args.address))
        .map_err(|e| Error::new(format!("import of {} failed: {e}", args.address)))?;
    let mut next = project.state.state.clone();
    next.resources.insert(
        args.address.clone(),
        ResourceState {
            kind: addr.kind.clone(),
            provider: pname,
            id: observed.id,
            attrs: observed.attrs,
            depends_on: Vec::new(),
            group: resource.group.clone(),
            // What it was created with is unknown: compared only after infra changes it.
            settings: None,
            unmarked: false,
        },
    );
    next.serial = project.state.effective_serial() + 1;
    state::save(&root, &next)?;
    println!(
        "Imported {} (id {}). Run `infra plan` to see how it differs from the spec.",
        args.address, args.id
    );
    if let Some(repo) = &repo {
        let msg = git::message(
            &format!("infra import: {}", args.address),
            Some(&format!("Adopted the existing object {}.", args.id)),
            &[("Infra-Plan", "+0 ~0 -0".to_string())],
        );
        repo.commit_paths(&[state::STATE_FILE], &msg)?;
    }
    publish(shared, repo.as_ref())?;
    Ok(0)
}
