//! Waiting for something to happen: poll with a deadline, never sleep a fixed time and hope.

use std::time::{Duration, Instant};

/// How long tests wait for background work (deliveries, refreshes) by default.
pub const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it holds, or panics after `timeout` naming `what`.
pub async fn until(timeout: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}
