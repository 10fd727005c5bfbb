//! Integration tests: every case runs against SQLite and, when `POSTGATE_TEST_POSTGRES_URL`
//! is set, against its own PostgreSQL database too. Without it the PostgreSQL cases are
//! reported as ignored, never as passed.

mod support;

mod auth;
mod cli;
mod concurrency;
mod http;
mod limits;
mod links;
mod me;
mod migrations;
mod pages;
mod plans;
mod storage;
mod users;

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
        http::cases(),
        limits::cases(),
        links::cases(),
        me::cases(),
        migrations::cases(),
        pages::cases(),
        plans::cases(),
        storage::cases(),
        users::cases(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for case in &cases {
            let run = case.run;
            trials.push(
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
                .with_ignored_flag(backend == Backend::Postgres && !have_pg),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
