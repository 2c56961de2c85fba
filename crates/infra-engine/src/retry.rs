//! The one retry policy for every provider call the engine makes: refresh reads,
//! single writes and batches. Only transient errors (429, 5xx, timeouts, refused
//! connections) are retried, with exponential backoff; a Retry-After the API sends
//! is honoured up to `longest_wait`, and a longer one (Cloudflare blocks for
//! minutes) ends the retries so the error is reported instead of slept through.
//! Each provider instance may set `retries = N` in its `[providers.NAME]` table.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use infra_core::spec::ProviderConfig;
use infra_kit::ProviderError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Wait before the first retry; it doubles each time.
    pub first_wait: Duration,
    /// The longest wait, computed or asked for by Retry-After.
    pub longest_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            first_wait: Duration::from_millis(500),
            longest_wait: Duration::from_secs(60),
        }
    }
}

/// What the policy needs to know about an error.
pub trait RetryableError {
    /// `None`: retrying cannot help. `Some(wait)`: transient, with the server's Retry-After.
    fn transient(&self) -> Option<Option<Duration>>;
}

impl RetryableError for ProviderError {
    fn transient(&self) -> Option<Option<Duration>> {
        match self {
            ProviderError::Transient { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

impl RetryPolicy {
    /// The provider instance's policy: the default, with its `retries` setting.
    pub fn for_provider(config: &ProviderConfig) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(n) = config.settings.get("retries").and_then(|v| v.as_u64()) {
            policy.max_retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        policy
    }

    /// Run `call` until it succeeds, fails for good, or the retries are spent;
    /// `notify(attempt, error, wait)` is told before each retry.
    pub async fn run<T, E, Fut>(
        &self,
        call: impl FnMut() -> Fut,
        mut notify: impl FnMut(u32, &E, Duration),
    ) -> Result<T, E>
    where
        E: RetryableError,
        Fut: Future<Output = Result<T, E>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.first_wait)
            .with_max_delay(self.longest_wait)
            .with_factor(2.0)
            .with_max_times(self.max_retries as usize);
        let longest = self.longest_wait;
        let mut attempt = 0;
        call.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &E| e.transient().is_some())
            .adjust(move |e: &E, computed| match e.transient() {
                Some(Some(asked)) if asked > longest => None,
                Some(Some(asked)) => computed.map(|_| asked),
                _ => computed,
            })
            .notify(|e: &E, wait| {
                attempt += 1;
                notify(attempt, e, wait);
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn quick(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            first_wait: Duration::from_millis(1),
            longest_wait: Duration::from_millis(50),
        }
    }

    fn transient(retry_after: Option<Duration>) -> ProviderError {
        ProviderError::Transient {
            message: "503".into(),
            retry_after,
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let mut told = Vec::new();
        let r = quick(4)
            .run(
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => Err(transient(None)),
                        _ => Ok("done"),
                    }
                },
                |attempt, _, wait| told.push((attempt, wait)),
            )
            .await;
        assert_eq!(r.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            told,
            vec![(1, Duration::from_millis(1)), (2, Duration::from_millis(2))],
            "the wait doubles"
        );
    }

    #[tokio::test]
    async fn retries_stop_at_the_limit_and_the_last_error_comes_back() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = quick(2)
            .run(
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(transient(None))
                },
                |_, _, _| {},
            )
            .await;
        assert!(r.unwrap_err().transient().is_some());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "one call and two retries");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = quick(4)
            .run(
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(ProviderError::rejected("400 bad name"))
                },
                |_, _, _| {},
            )
            .await;
        assert_eq!(r.unwrap_err().to_string(), "400 bad name");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retry_after_is_honoured_and_a_long_one_ends_the_retries() {
        let mut told = Vec::new();
        let calls = AtomicU32::new(0);
        let _ = quick(4)
            .run(
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 => Err(transient(Some(Duration::from_millis(7)))),
                        _ => Err::<(), _>(transient(Some(Duration::from_secs(300)))),
                    }
                },
                |_, _, wait| told.push(wait),
            )
            .await;
        assert_eq!(told, vec![Duration::from_millis(7)]);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "a Retry-After beyond the longest wait is reported, not slept through"
        );
    }
}
