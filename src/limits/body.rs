//! Deadlines for request bodies, on every route: a body whose next byte is `idle` late, or
//! that falls below `min_rate` bytes per second on average, is cut off with a 408. A big
//! upload may take as long as it needs while it keeps moving; a client trickling a byte now
//! and then cannot hold a connection.
//!
//! Time the server itself spends between reads (writing a chunk to the media store) is not
//! held against the client: only time spent waiting for the client counts.

use crate::config::BodyPace;
use crate::error::ApiError;
use actix_web::HttpMessage;
use actix_web::ResponseError;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::Stream;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

impl BodyPace {
    /// How long the next wait may last, given what the client has sent and how long we have
    /// waited for it so far.
    fn next_wait(&self, received: u64, waited: Duration) -> Duration {
        if self.min_rate == 0 {
            return self.idle;
        }
        let earned = Duration::from_secs_f64(received as f64 / self.min_rate as f64);
        (self.idle + earned).saturating_sub(waited).min(self.idle)
    }
}

/// Middleware: paces the body of every request, and answers 408 when one came too slowly.
pub async fn paced_bodies(
    pace: BodyPace,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let inner = Rc::new(RefCell::new(req.take_payload()));
    let timed_out = Rc::new(Cell::new(false));
    let paced: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(PacedBody {
        inner: inner.clone(),
        pace,
        timed_out: timed_out.clone(),
        received: 0,
        waited: Duration::ZERO,
        waiting_since: None,
        timer: None,
    });
    req.set_payload(Payload::from(paced));
    let res = next.call(req).await?;
    let res = if timed_out.get() {
        res.into_response(ApiError::BodyTimeout.error_response())
    } else {
        res.map_into_boxed_body()
    };
    Ok(res.map_body(|_, body| HoldingBody {
        body,
        _unread: inner,
    }))
}

/// A response body that keeps whatever is left of the request body referenced until it has
/// been sent: actix then closes the connection, where it would otherwise go on reading
/// ("draining") a chunked request body, with no deadline, from a client that can send it as
/// slowly as it likes.
struct HoldingBody {
    body: BoxBody,
    _unread: Rc<RefCell<Payload>>,
}

impl MessageBody for HoldingBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

struct PacedBody {
    inner: Rc<RefCell<Payload>>,
    pace: BodyPace,
    timed_out: Rc<Cell<bool>>,
    received: u64,
    /// Time spent waiting for the client, over finished waits.
    waited: Duration,
    waiting_since: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Stream for PacedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.timed_out.get() {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut *this.inner.borrow_mut()).poll_next(cx);
        match polled {
            Poll::Ready(item) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                this.timer = None;
                if let Some(Ok(bytes)) = &item {
                    this.received += bytes.len() as u64;
                }
                Poll::Ready(item)
            }
            Poll::Pending => {
                let pace = this.pace;
                let (received, waited) = (this.received, this.waited);
                let timer = this.timer.get_or_insert_with(|| {
                    let now = Instant::now();
                    this.waiting_since = Some(now);
                    Box::pin(tokio::time::sleep_until(
                        now + pace.next_wait(received, waited),
                    ))
                });
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.timed_out.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body arrived too slowly",
                )))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_by_idle_time_and_earned_by_progress() {
        let pace = BodyPace {
            idle: Duration::from_secs(10),
            min_rate: 100,
        };
        // Nothing sent yet: the grace period.
        assert_eq!(pace.next_wait(0, Duration::ZERO), Duration::from_secs(10));
        // 4 s of waiting spent out of 10 + 2 earned.
        assert_eq!(
            pace.next_wait(200, Duration::from_secs(4)),
            Duration::from_secs(8)
        );
        // A trickle has used up its allowance.
        assert_eq!(pace.next_wait(5, Duration::from_secs(11)), Duration::ZERO);
        // Fast senders never wait longer than the idle time.
        assert_eq!(
            pace.next_wait(1 << 30, Duration::from_secs(60)),
            Duration::from_secs(10)
        );
        let no_rate = BodyPace {
            min_rate: 0,
            ..pace
        };
        assert_eq!(
            no_rate.next_wait(0, Duration::from_secs(999)),
            Duration::from_secs(10)
        );
    }
}
