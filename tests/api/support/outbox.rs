//! The webhook outbox read and driven directly, so tests assert on what is queued and what
//! a worker could still take instead of waiting to see whether a request shows up.

use super::TestApp;
use postgate::db::outbox::{self, Delivery};

impl TestApp {
    /// Queues `n` `social_account_disconnected` events for the account's profiles `names`,
    /// round robin, in one transaction. Returns (profile id, delivery id) per event, in order.
    pub async fn emit_round_robin(
        &self,
        account: &str,
        names: Vec<String>,
        n: usize,
    ) -> Vec<(String, String)> {
        use diesel::Connection;
        use postgate::db::profiles;
        use postgate::domain::webhooks::Event;
        let account = account.to_owned();
        self.with_db(move |c| {
            c.transaction(|c| {
                let profiles: Vec<_> = names
                    .iter()
                    .map(|name| {
                        let name = postgate::domain::Username::parse(name).unwrap();
                        profiles::find(c, &account, &name).map(|p| p.expect("profile"))
                    })
                    .collect::<Result<_, _>>()?;
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let p = &profiles[i % profiles.len()];
                    let event = Event::SocialAccountDisconnected;
                    let body = serde_json::json!({"event": event, "n": i});
                    // Not through `Db::run_queueing`: the worker finds them at its next poll.
                    let ids = outbox::emit(c, &account, Some(p), event, &body)?.without_wake();
                    out.push((p.id.clone(), ids[0].clone()));
                }
                diesel::QueryResult::Ok(out)
            })
            .expect("emit events")
        })
        .await
    }

    /// The longest time any delivered webhook waited from its event's commit.
    pub async fn longest_webhook_delay(&self) -> chrono::Duration {
        self.with_db(|c| {
            use diesel::prelude::*;
            use postgate::db::schema::webhook_deliveries::dsl::*;
            webhook_deliveries
                .select((created_at, delivered_at))
                .load::<(chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)>(c)
                .expect("deliveries")
                .into_iter()
                .filter_map(|(made, done)| done.map(|d| d - made))
                .max()
                .unwrap_or_default()
        })
        .await
    }

    /// Every delivery in the outbox, oldest first.
    pub async fn deliveries(&self) -> Vec<Delivery> {
        self.with_db(|c| {
            use diesel::prelude::*;
            use postgate::db::schema::webhook_deliveries::dsl::*;
            webhook_deliveries
                .order(seq)
                .select(Delivery::as_select())
                .load(c)
                .expect("deliveries")
        })
        .await
    }

    /// Waits until `n` deliveries are recorded as delivered: a receiver has its request
    /// before the worker writes down the answer.
    pub async fn wait_for_delivered(&self, n: usize) {
        super::wait::until(
            super::wait::WAIT,
            &format!("{n} deliveries recorded"),
            async || {
                self.deliveries()
                    .await
                    .iter()
                    .filter(|d| d.state == outbox::DELIVERED)
                    .count()
                    >= n
            },
        )
        .await;
    }

    /// What a worker would claim right now: the ids of the deliveries due and not held back.
    /// Claims with a lease that ends at once, so nothing is kept from the real workers.
    pub async fn claimable_now(&self) -> Vec<String> {
        self.with_db(|c| {
            let now = postgate::domain::time::now();
            outbox::claim(c, now, chrono::Duration::zero(), 100)
                .expect("claim")
                .into_iter()
                .map(|claimed| claimed.delivery.id)
                .collect()
        })
        .await
    }
}
