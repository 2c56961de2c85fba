//! `infra ci comment` and `infra ci reviewed-digest`: the plan a pull request
//! shows is one comment (found again by a marker and updated, not added anew on
//! each push), and on merge the apply job reads the digest that comment shows.

use std::path::Path;

use super::platform::Platform;
use crate::error::{Error, Result};

/// The first line of infra's plan comment, invisible when rendered.
pub const MARKER: &str = "<!-- infra:plan -->";

/// What precedes the digest in the Markdown plan.
const DIGEST_LABEL: &str = "Plan digest: `";

/// GitHub refuses comments longer than 65,536 characters.
const MAX_COMMENT: usize = 60_000;

/// Plans are read up to this size; a bigger file is not a plan.
const MAX_FILE: u64 = 8 << 20;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

pub fn comment(cwd: &Path, file: &Path) -> Result<i32> {
    let path = cwd.join(file);
    let size = fs_err::metadata(&path)?.len();
    if size > MAX_FILE {
        return Err(Error::new(format!(
            "{} is too big for a comment ({size} bytes)",
            file.display()
        )));
    }
    let text = fs_err::read_to_string(&path)?;
    let body = format!("{MARKER}\n{}", fit(&text));
    let platform = Platform::from_env(&env)?;
    let number = platform.current_request(&env)?;
    let rt = super::super::runtime()?;
    let updated = rt.block_on(async {
        let me = platform.me(&env).await?;
        let mine = platform
            .comments(number)
            .await?
            .into_iter()
            .find(|c| c.author == me && c.body.starts_with(MARKER));
        match mine {
            Some(c) => platform
                .update_comment(number, c.id, &body)
                .await
                .map(|()| true),
            None => platform.create_comment(number, &body).await.map(|()| false),
        }
    })?;
    println!(
        "{} the plan comment on {} #{number}.",
        if updated { "Updated" } else { "Posted" },
        platform.request_word()
    );
    Ok(0)
}

pub fn reviewed_digest(cwd: &Path, commit: Option<String>) -> Result<i32> {
    let sha = match commit
        .or_else(|| env("GITHUB_SHA"))
        .or_else(|| env("CI_COMMIT_SHA"))
    {
        Some(s) => s,
        None => {
            let root = super::super::root(cwd)?;
            crate::git::Repo::open(&root)?
                .head()?
                .ok_or_else(|| Error::new("the branch has no commit yet"))?
        }
    };
    let platform = Platform::from_env(&env)?;
    let rt = super::super::runtime()?;
    let found = rt.block_on(async {
        let merged = platform.merged_requests(&sha).await?;
        if merged.is_empty() {
            return Ok(None);
        }
        let me = platform.me(&env).await?;
        for number in merged {
            let comments = platform.comments(number).await?;
            if let Some(d) = comments
                .iter()
                .filter(|c| c.author == me && c.body.starts_with(MARKER))
                .find_map(|c| digest_in(&c.body))
            {
                return Ok(Some((number, d)));
            }
        }
        Ok::<_, Error>(None)
    })?;
    match found {
        Some((number, digest)) => {
            eprintln!("The plan reviewed on {} #{number} has digest {digest}.", platform.request_word());
            println!("{digest}");
            Ok(0)
        }
        None => Err(Error::new(format!(
            "commit {} came from no merged {} with a reviewed infra plan",
            &sha[..sha.len().min(12)],
            platform.request_word()
        ))
        .hint("merge spec changes through pull requests whose plan job posted the plan; a change pushed directly is applied by hand (`infra apply`)")),
    }
}

/// The digest a Markdown plan shows.
pub fn digest_in(text: &str) -> Option<String> {
    let at = text.find(DIGEST_LABEL)? + DIGEST_LABEL.len();
    let digest = text.get(at..at + 64)?;
    let closed = text[at + 64..].starts_with('`');
    (closed && digest.bytes().all(|b| b.is_ascii_hexdigit())).then(|| digest.to_string())
}

/// A plan cut to the platform's limit; the digest line always survives.
fn fit(text: &str) -> String {
    if text.len() <= MAX_COMMENT {
        return text.to_string();
    }
    let mut end = MAX_COMMENT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = format!(
        "{}\n\n… the plan is cut here; the whole plan is the job's artifact.\n",
        &text[..end]
    );
    if digest_in(&out).is_none() {
        if let Some(d) = digest_in(text) {
            out.push_str(&format!("\n{DIGEST_LABEL}{d}`\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_read_back_and_survives_a_cut() {
        let d = "ab".repeat(32);
        let plan = format!("## Plan\n\n{DIGEST_LABEL}{d}`\n\n");
        assert_eq!(digest_in(&plan).as_deref(), Some(d.as_str()));
        assert_eq!(digest_in("Plan digest: `xyz`"), None);
        let long = format!("{}{plan}", "x".repeat(MAX_COMMENT + 10));
        let cut = fit(&long);
        assert!(cut.len() < MAX_COMMENT + 300);
        assert_eq!(digest_in(&cut).as_deref(), Some(d.as_str()));
    }
}
