//! A client-side budget for Cloudflare's documented rate limit: 1,200 requests
//! per 5 minutes per user, counted over every token and the dashboard together;
//! going over blocks *all* calls for 5 minutes with HTTP 429
//! (developers.cloudflare.com/fundamentals/api/reference/limits, see
//! shared/contracts/NOTES.md §2). A sliding window of send times makes one
//! provider instance wait before it would exceed its share, so a large refresh
//! or apply slows down instead of locking the account out. Pure timing: no HTTP
//! here, nothing Cloudflare-specific beyond the numbers.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Cloudflare's limit: 1,200 requests per 5 minutes per user.
pub const CLOUDFLARE_LIMIT: usize = 1200;
/// infra's share of it. The limit is shared with the dashboard and any other
/// tool using the same account, so one run keeps a sixth of it free.
pub const BUDGET: usize = 1000;
pub const WINDOW: Duration = Duration::from_secs(300);

pub struct Limiter {
    max: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Limiter {
    pub fn new(max: usize, window: Duration) -> Limiter {
        Limiter {
            max: max.max(1),
            window,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// The budget for one provider instance: `BUDGET` requests per `WINDOW`.
    pub fn cloudflare() -> Limiter {
        Limiter::new(BUDGET, WINDOW)
    }

    /// Wait until one more request fits in the window, then count it.
    /// Waiters queue on the lock, so they are served in arrival order.
    pub async fn acquire(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            let now = Instant::now();
            while sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                sent.pop_front();
            }
            if sent.len() < self.max {
                sent.push_back(now);
                return;
            }
            let oldest = *sent.front().expect("full window is not empty");
            tokio::time::sleep_until(oldest + self.window).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stays_under_the_documented_limit() {
        const { assert!(BUDGET < CLOUDFLARE_LIMIT) };
        assert_eq!(WINDOW, Duration::from_secs(5 * 60));
    }

    #[tokio::test]
    async fn requests_beyond_the_budget_wait_for_the_window() {
        let l = Limiter::new(3, Duration::from_millis(300));
        let start = Instant::now();
        for _ in 0..3 {
            l.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(150),
            "within budget: no wait"
        );
        l.acquire().await;
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "the 4th request waits until the 1st leaves the window"
        );
    }
}
