//! The code-review platforms, as much of their REST APIs as `ci comment` and
//! `ci reviewed-digest` need: a pull request's comments (list, create, update)
//! and the merged pull requests that brought a commit. GitHub and GitLab are
//! told apart by the variables their jobs set; the token comes from the
//! environment and is sent only as a header, never printed.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Pages of 100 comments read at most: a pull request with more is unusual,
/// and the loop must end.
const MAX_PAGES: u32 = 20;

pub struct Comment {
    pub id: u64,
    pub body: String,
    /// Who wrote it: the GitHub login or GitLab username.
    pub author: String,
}

enum Kind {
    GitHub,
    GitLab,
}

pub struct Platform {
    kind: Kind,
    /// The API's base URL, without a trailing slash.
    base: String,
    /// `owner/repo` (GitHub) or the project's id (GitLab).
    project: String,
    token: String,
    client: reqwest::Client,
}

impl Platform {
    /// The platform this job runs on, from its variables.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Platform> {
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let need = |k: &str, why: &str| {
            var(k).ok_or_else(|| Error::new(format!("{k} is not set")).hint(why.to_string()))
        };
        let (kind, base, project, token) = if var("GITHUB_ACTIONS").as_deref() == Some("true") {
            (
                Kind::GitHub,
                var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
                need("GITHUB_REPOSITORY", "GitHub Actions sets it in every job")?,
                need(
                    "GITHUB_TOKEN",
                    "pass it to the step: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`",
                )?,
            )
        } else if var("CI_PROJECT_ID").is_some() && var("CI_API_V4_URL").is_some() {
            (
                Kind::GitLab,
                need("CI_API_V4_URL", "GitLab CI sets it in every job")?,
                need("CI_PROJECT_ID", "GitLab CI sets it in every job")?,
                need("INFRA_GITLAB_TOKEN", "add a project access token (scope api) as the CI/CD variable INFRA_GITLAB_TOKEN")?,
            )
        } else {
            return Err(Error::new("this is neither a GitHub Actions nor a GitLab CI job")
                .hint("`infra ci comment` and `infra ci reviewed-digest` run inside the pipelines `infra ci init` writes"));
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::new(format!("cannot start an HTTP client: {e}")))?;
        Ok(Platform {
            kind,
            base: base.trim_end_matches('/').to_string(),
            project,
            token,
            client,
        })
    }

    /// "pull request" or "merge request", for messages.
    pub fn request_word(&self) -> &'static str {
        match self.kind {
            Kind::GitHub => "pull request",
            Kind::GitLab => "merge request",
        }
    }

    /// The pull request this job runs for.
    pub fn current_request(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<u64> {
        let number = match self.kind {
            Kind::GitHub => env("GITHUB_EVENT_PATH")
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|e| e["pull_request"]["number"].as_u64())
                .or_else(|| {
                    env("GITHUB_REF")?
                        .strip_prefix("refs/pull/")?
                        .split('/')
                        .next()?
                        .parse()
                        .ok()
                }),
            Kind::GitLab => env("CI_MERGE_REQUEST_IID").and_then(|v| v.parse().ok()),
        };
        number.ok_or_else(|| {
            Error::new(format!(
                "this job does not run for a {}",
                self.request_word()
            ))
            .hint("run the plan comment step only in pull-request (merge-request) pipelines")
        })
    }

    pub async fn comments(&self, number: u64) -> Result<Vec<Comment>> {
        let path = match self.kind {
            Kind::GitHub => format!("/repos/{}/issues/{number}/comments", self.project),
            Kind::GitLab => format!("/projects/{}/merge_requests/{number}/notes", self.project),
        };
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!("{path}?per_page=100&page={page}");
            let items = self.send(Method::GET, &url, None).await?;
            let items = items.as_array().cloned().unwrap_or_default();
            let full = items.len() == 100;
            out.extend(items.iter().filter_map(|c| {
                let author = match self.kind {
                    Kind::GitHub => &c["user"]["login"],
                    Kind::GitLab => &c["author"]["username"],
                };
                Some(Comment {
                    id: c["id"].as_u64()?,
                    body: c["body"].as_str().unwrap_or_default().to_string(),
                    author: author.as_str().unwrap_or_default().to_string(),
                })
            }));
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Who this job posts as: only that author's plan comments count (anyone
    /// may write the marker into a comment of their own). GitHub Actions posts
    /// as github-actions[bot] (`INFRA_CI_COMMENT_AUTHOR` names another, for a
    /// token of a bot user); on GitLab it is the token's own user.
    pub async fn me(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<String> {
        if let Some(name) = env("INFRA_CI_COMMENT_AUTHOR").filter(|v| !v.trim().is_empty()) {
            return Ok(name);
        }
        match self.kind {
            Kind::GitHub => Ok("github-actions[bot]".into()),
            Kind::GitLab => {
                let user = self.send(Method::GET, "/user", None).await?;
                user["username"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::new("GET /user named no username"))
            }
        }
    }

    pub async fn create_comment(&self, number: u64, body: &str) -> Result<()> {
        let path = match self.kind {
            Kind::GitHub => format!("/repos/{}/issues/{number}/comments", self.project),
            Kind::GitLab => format!("/projects/{}/merge_requests/{number}/notes", self.project),
        };
        self.send(Method::POST, &path, Some(json!({ "body": body })))
            .await
            .map(drop)
    }

    pub async fn update_comment(&self, number: u64, id: u64, body: &str) -> Result<()> {
        let (method, path) = match self.kind {
            Kind::GitHub => (
                Method::PATCH,
                format!("/repos/{}/issues/comments/{id}", self.project),
            ),
            Kind::GitLab => (
                Method::PUT,
                format!(
                    "/projects/{}/merge_requests/{number}/notes/{id}",
                    self.project
                ),
            ),
        };
        self.send(method, &path, Some(json!({ "body": body })))
            .await
            .map(drop)
    }

    /// The merged pull requests that contain `sha`, newest first as the API lists them.
    pub async fn merged_requests(&self, sha: &str) -> Result<Vec<u64>> {
        let (path, number, merged): (String, &str, fn(&Value) -> bool) = match self.kind {
            Kind::GitHub => (
                format!("/repos/{}/commits/{sha}/pulls", self.project),
                "number",
                |p| !p["merged_at"].is_null(),
            ),
            Kind::GitLab => (
                format!(
                    "/projects/{}/repository/commits/{sha}/merge_requests",
                    self.project
                ),
                "iid",
                |m| m["state"] == "merged",
            ),
        };
        let items = self.send(Method::GET, &path, None).await?;
        Ok(items
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| merged(p))
            .filter_map(|p| p[number].as_u64())
            .collect())
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let what = format!("{method} {path}");
        let mut req: RequestBuilder = self.client.request(method, &url);
        req = match self.kind {
            Kind::GitHub => req
                .bearer_auth(&self.token)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28"),
            Kind::GitLab => req.header("PRIVATE-TOKEN", &self.token),
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Error::new(format!("{what}: {}", without_url(e))))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| Error::new(format!("{what}: {}", without_url(e))))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            // The API's own words: GitHub and GitLab both say it in `message`.
            let said = value["message"]
                .as_str()
                .map(str::to_string)
                .or_else(|| value["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(Error::new(format!("{what} failed: {status}: {said}")));
        }
        Ok(value)
    }
}

/// reqwest's message without the URL (a GitHub Enterprise or GitLab address
/// is the person's business, and keeps the line short).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}
