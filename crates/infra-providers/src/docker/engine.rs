//! The connection to one Docker Engine and the mapping of its errors.
//!
//! The client is made on first use, not when the provider is built, so a stopped
//! engine shows up as a transient error of the operation that needed it (retried by
//! the engine with backoff) rather than as a failure to load the project. The API
//! version is negotiated once: bollard speaks a newer API than Debian's Docker 20.10
//! (API 1.41), and the engine refuses requests for versions it does not know.
//! Errors keep the Engine API's own message ("No such image: x"); connection
//! failures, timeouts and 5xx answers are transient, other answers permanent.

use bollard::errors::Error as BollardError;
use bollard::Docker;
use tokio::sync::OnceCell;

use infra_kit::{ProviderError, Result};

/// Seconds one Engine API request may take.
const REQUEST_TIMEOUT: u64 = 60;

/// Where the engine listens: a unix socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket(pub String);

impl Socket {
    /// From the `socket` setting, else `DOCKER_HOST`, else `/var/run/docker.sock`.
    /// Accepts `unix:///path` or a plain path; other schemes are refused.
    pub fn choose(setting: Option<&str>) -> std::result::Result<Socket, String> {
        let (value, from) = match setting {
            Some(s) => (s.to_string(), "socket"),
            None => match std::env::var("DOCKER_HOST") {
                Ok(h) if !h.is_empty() => (h, "DOCKER_HOST"),
                _ => ("/var/run/docker.sock".to_string(), "default"),
            },
        };
        let path = match value.strip_prefix("unix://") {
            Some(p) => p.to_string(),
            None if value.contains("://") => {
                return Err(format!(
                    "{from} `{value}`: only unix sockets are supported (unix:///path or a path)"
                ))
            }
            None => value,
        };
        if path.is_empty() {
            return Err(format!("{from}: empty socket path"));
        }
        Ok(Socket(path))
    }
}

/// A lazily connected client.
pub struct Engine {
    socket: Socket,
    client: OnceCell<Docker>,
}

impl Engine {
    pub fn new(socket: Socket) -> Self {
        Engine {
            socket,
            client: OnceCell::new(),
        }
    }

    /// The client, connecting (and negotiating the API version) on first use.
    pub async fn client(&self) -> Result<&Docker> {
        self.client
            .get_or_try_init(|| async {
                let docker = Docker::connect_with_unix(
                    &self.socket.0,
                    REQUEST_TIMEOUT,
                    bollard::API_DEFAULT_VERSION,
                )
                .map_err(|e| self.fail("connecting", e))?;
                docker
                    .negotiate_version()
                    .await
                    .map_err(|e| self.fail("negotiating the API version", e))
            })
            .await
    }

    /// Classify an error; `what` says what was being done ("creating conf-web").
    pub fn fail(&self, what: &str, e: BollardError) -> ProviderError {
        classify(&self.socket.0, what, e)
    }
}

/// The HTTP status of an answer from the engine, if it answered.
pub fn status(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The engine's own message where there is one, else the innermost cause
/// (hyper wraps "connection refused" in two layers of "client error").
pub fn message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.trim().to_string(),
        BollardError::SocketNotFoundError(_) => "no socket there".to_string(),
        BollardError::RequestTimeoutError => format!("no answer within {REQUEST_TIMEOUT} s"),
        other => {
            let mut cause: &dyn std::error::Error = other;
            while let Some(s) = cause.source() {
                cause = s;
            }
            cause.to_string()
        }
    }
}

/// Classify an error from the engine at `socket`.
pub fn classify(socket: &str, what: &str, e: BollardError) -> ProviderError {
    let text = format!("{what}: {}", message(&e));
    match status(&e) {
        Some(s @ 500..=599) => ProviderError::Transient {
            message: format!("{text} (HTTP {s})"),
            retry_after: None,
        },
        Some(409) => ProviderError::Conflict(text),
        Some(401 | 403) => ProviderError::Auth(text),
        Some(s) => ProviderError::Rejected {
            status: Some(s),
            message: text,
        },
        None => match e {
            BollardError::RequestTimeoutError
            | BollardError::SocketNotFoundError(_)
            | BollardError::IOError { .. }
            | BollardError::HyperResponseError { .. }
            | BollardError::HyperLegacyError { .. } => ProviderError::Transient {
                message: format!(
                    "cannot reach the Docker Engine at {socket} ({what}): {}",
                    message(&e)
                ),
                retry_after: None,
            },
            _ => ProviderError::rejected(text),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_forms() {
        assert_eq!(
            Socket::choose(Some("unix:///tmp/d.sock")).unwrap(),
            Socket("/tmp/d.sock".into())
        );
        assert_eq!(
            Socket::choose(Some("/run/d.sock")).unwrap(),
            Socket("/run/d.sock".into())
        );
        let err = Socket::choose(Some("tcp://127.0.0.1:2375")).unwrap_err();
        assert!(err.contains("only unix sockets"), "{err}");
    }

    #[test]
    fn engine_answers_are_classified() {
        let answer = |status_code: u16, message: &str| BollardError::DockerResponseServerError {
            status_code,
            message: message.into(),
        };
        let e = classify(
            "/s",
            "creating conf-web",
            answer(404, "No such image: nope:1"),
        );
        assert!(matches!(
            e,
            ProviderError::Rejected {
                status: Some(404),
                ..
            }
        ));
        assert_eq!(e.to_string(), "creating conf-web: No such image: nope:1");
        assert!(classify("/s", "x", answer(503, "busy")).is_transient());
        assert!(matches!(
            classify("/s", "x", answer(409, "name in use")),
            ProviderError::Conflict(_)
        ));
        assert!(classify("/s", "x", BollardError::RequestTimeoutError).is_transient());
        let down = classify(
            "/s",
            "listing containers",
            BollardError::SocketNotFoundError("/s".into()),
        );
        assert!(down.is_transient());
        assert_eq!(
            down.to_string(),
            "cannot reach the Docker Engine at /s (listing containers): no socket there"
        );
    }
}
