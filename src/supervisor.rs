//! Keeps the background tasks running (token refresh, webhook delivery, publishing, media
//! sweeping): a task that panics, or ends before the stop was asked for, is logged, counted
//! (`postgate_background_task_restarts_total{task}`) and started again after a pause that
//! grows with each failure in a row. Once the stop is asked for, a task that ends is done.
//! Work that requests start without waiting for it (`Detached`) is tracked too, so that a
//! stop waits for it.

use crate::metrics::TaskMetrics;
use crate::telemetry::loggable;
use std::any::Any;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

/// Work a request starts and does not wait for: an upload's publishing run, revoking the
/// grants of a deleted profile. It runs on the process's runtime rather than on the HTTP
/// worker's that spawned it (which ends at a stop, cancelling its tasks), and a stop waits
/// for it within the shutdown deadline.
#[derive(Clone)]
pub struct Detached {
    tracker: TaskTracker,
    runtime: tokio::runtime::Handle,
}

impl Detached {
    /// Runs work on the runtime that calls this.
    pub fn on_current_runtime() -> Self {
        Self {
            tracker: TaskTracker::new(),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    pub fn spawn<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn_on(work, &self.runtime)
    }

    /// Resolves once all the work started, and any started from now on, has ended.
    pub async fn finish(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// The pause before a restart: `first`, doubled per failure in a row, at most `max`. A run
/// that lasted `max` or longer was healthy: the next failure pauses `first` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const DEFAULT: Self = Self {
        first: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
}

/// Starts tasks that run until `stop` turns `true`.
#[derive(Clone)]
pub struct Supervisor {
    stop: watch::Receiver<bool>,
    metrics: TaskMetrics,
    backoff: Backoff,
}

impl Supervisor {
    pub fn new(stop: watch::Receiver<bool>, metrics: TaskMetrics, backoff: Backoff) -> Self {
        Self {
            stop,
            metrics,
            backoff,
        }
    }

    /// Runs `start(stop)` as its own tokio task, and again whenever it fails before the
    /// stop. The handle resolves once the task ended after the stop (or during a pause).
    pub fn spawn<F, Fut>(&self, task: &'static str, mut start: F) -> JoinHandle<()>
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Self {
            mut stop,
            metrics,
            backoff,
        } = self.clone();
        metrics.watch(task);
        tokio::spawn(async move {
            let mut pause = backoff.first;
            loop {
                let started = Instant::now();
                let ended = tokio::spawn(start(stop.clone())).await;
                let stopping = *stop.borrow();
                let failure = match ended {
                    Ok(()) if stopping => return,
                    Ok(()) => "ended before the stop".to_owned(),
                    // The runtime is shutting down.
                    Err(e) if e.is_cancelled() => return,
                    Err(e) => format!("panicked: {}", panic_message(e.into_panic().as_ref())),
                };
                let failure = loggable(&failure);
                if stopping {
                    tracing::error!(task, error = %failure, "a background task failed while stopping");
                    return;
                }
                if started.elapsed() >= backoff.max {
                    pause = backoff.first;
                }
                tracing::error!(
                    task,
                    error = %failure,
                    restart_in_ms = pause.as_millis(),
                    "a background task failed; restarting it"
                );
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.wait_for(|stop| *stop) => return,
                }
                metrics.restarted(task);
                pause = (pause * 2).min(backoff.max);
            }
        })
    }
}

/// Logs an item a task ran on its own (one delivery, one publishing attempt) if it
/// panicked: the task goes on, and the item, still leased, is taken again once the lease
/// lapses.
pub fn item_ended(task: &'static str, ended: Result<(), JoinError>) {
    if let Err(e) = ended
        && e.is_panic()
    {
        let why = loggable(panic_message(e.into_panic().as_ref()));
        tracing::error!(task, error = %why, "an item of a background task panicked; it is tried again once its lease lapses");
    }
}

/// What a panic said, when it said it with text.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    const FAST: Backoff = Backoff {
        first: Duration::from_millis(10),
        max: Duration::from_millis(40),
    };

    fn restarts(metrics: &Metrics, task: &str) -> String {
        let text = metrics.render(
            crate::db::PoolState {
                max: 1,
                connections: 0,
                idle: 0,
                waiting: 0,
            },
            crate::metrics::Backlogs::default(),
        );
        let prefix = format!("postgate_background_task_restarts_total{{task=\"{task}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
    }

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_counted_until_the_stop() {
        let metrics = Metrics::new();
        let (stop, stopped) = watch::channel(false);
        let supervisor = Supervisor::new(stopped, metrics.tasks.clone(), FAST);
        let runs = Arc::new(AtomicU32::new(0));
        let handle = supervisor.spawn("refresh", {
            let runs = runs.clone();
            move |mut stop| {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    // The first two runs fail, one by a panic and one by ending early; the
                    // third runs until the stop.
                    match run {
                        1 => panic!("expires_in out of range: {}", "9".repeat(400)),
                        2 => {}
                        _ => drop(stop.wait_for(|s| *s).await),
                    }
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while runs.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "not restarted");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(restarts(&metrics, "refresh"), "2");
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("stops once asked")
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(restarts(&metrics, "refresh"), "2");
    }

    #[tokio::test]
    async fn the_pause_doubles_up_to_its_cap_and_the_stop_cuts_it_short() {
        let metrics = Metrics::new();
        let (stop, stopped) = watch::channel(false);
        let slow = Backoff {
            first: Duration::from_millis(20),
            max: Duration::from_secs(3600),
        };
        let supervisor = Supervisor::new(stopped, metrics.tasks.clone(), slow);
        let starts = Arc::new(std::sync::Mutex::new(Vec::new()));
        let handle = supervisor.spawn("sweeper", {
            let starts = starts.clone();
            move |_| {
                starts.lock().unwrap().push(Instant::now());
                async {}
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while starts.lock().unwrap().len() < 4 {
            assert!(Instant::now() < deadline, "not restarted");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let gaps: Vec<Duration> = starts
            .lock()
            .unwrap()
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect();
        for (gap, pause) in gaps.iter().zip([20, 40, 80]) {
            assert!(*gap >= Duration::from_millis(pause), "{gaps:?}");
        }
        // The pause is long by now (160 ms and growing); the stop does not wait for it.
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_millis(100), handle)
            .await
            .expect("the stop cuts the pause short")
            .unwrap();
    }

    #[test]
    fn panic_messages_are_read_from_either_payload() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42_u8), "(no message)");
    }
}
