//! Integration tests: every case runs against SQLite and, when `POSTGATE_TEST_POSTGRES_URL`
//! is set, against its own PostgreSQL database too. Without it the PostgreSQL cases are
//! reported as ignored, never as passed.

mod support;

mod auth;
mod browser;
mod cli;
mod clients;
mod concurrency;
mod fuzz;
mod hostile_input;
mod http;
mod isolation;
mod large_media;
mod limits;
mod link_scope;
mod links;
mod logs;
mod me;
mod media;
mod metrics;
mod migrations;
mod n8n;
mod oauth;
mod oauth_state_at_rest;
mod openapi;
mod outage;
mod pages;
mod plans;
mod prefix;
mod publish_processes;
mod publishing;
mod queue;
mod slow_clients;
mod storage;
mod uploads;
mod usage;
mod users;
mod webhook_processes;
mod webhook_secrets;
mod webhooks;

use libtest_mimic::{Arguments, Trial};
use support::{Backend, PG_ENV, TestApp};

fn main() {
    postgate::init_process();
    let args = Arguments::from_args();
    let have_pg = std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty());
    let cases = [
        auth::cases(),
        cli::cases(),
        concurrency::cases(),
        hostile_input::cases(),
        http::cases(),
        isolation::cases(),
        limits::cases(),
        link_scope::cases(),
        links::cases(),
        logs::cases(),
        me::cases(),
        media::cases(),
        metrics::cases(),
        migrations::cases(),
        n8n::cases(),
        oauth::cases(),
        oauth_state_at_rest::cases(),
        openapi::cases(),
        pages::cases(),
        plans::cases(),
        prefix::cases(),
        queue::cases(),
        slow_clients::cases(),
        publishing::cases(),
        storage::cases(),
        usage::cases(),
        uploads::cases(),
        users::cases(),
        webhooks::cases(),
        webhook_secrets::cases(),
        webhook_processes::both::cases(),
        publish_processes::both::cases(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for case in &cases {
            trials.push(
                trial(backend, case).with_ignored_flag(backend == Backend::Postgres && !have_pg),
            );
        }
    }
    for case in webhook_processes::postgres_only::cases()
        .iter()
        .chain(&publish_processes::postgres_only::cases())
        .chain(&outage::postgres_only::cases())
    {
        trials.push(trial(Backend::Postgres, case).with_ignored_flag(!have_pg));
    }
    // Heavy and backend-independent (a gigabyte through a real process): SQLite only.
    for case in large_media::cases() {
        trials.push(trial(Backend::Sqlite, &case));
    }
    // Tests driving installed tools run on SQLite: what they check does not depend on the
    // backend, which the cases above cover twice. Skipped without the tools, unless required.
    let tools_required = std::env::var(support::TOOLS_ENV).is_ok_and(|v| v == "required");
    let tooled = [
        (
            browser::cases(),
            support::browser::available(),
            "scripts/install-browser",
        ),
        (
            clients::cases(),
            support::clients::available(),
            "scripts/install-clients",
        ),
        (fuzz::cases(), fuzz::available(), "scripts/install-clients"),
        (
            media::s3_cases::cases(),
            support::s3::available(),
            "scripts/install-clients",
        ),
    ];
    for (cases, available, installer) in tooled {
        for case in &cases {
            trials.push(if available || !tools_required {
                trial(Backend::Sqlite, case).with_ignored_flag(!available)
            } else {
                Trial::test(format!("sqlite::{}", case.name), move || {
                    Err(format!("a tool this test needs is missing: run {installer}").into())
                })
            });
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// One case on one backend, on a fresh server and database.
fn trial(backend: Backend, case: &support::Case) -> Trial {
    let run = case.run;
    Trial::test(format!("{}::{}", backend.name(), case.name), move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let app = TestApp::spawn(backend).await;
            run(&app).await;
            app.stop().await;
        });
        Ok(())
    })
}
