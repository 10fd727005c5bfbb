//! Postgate: a self-hosted server for the Upload-Post user-profiles API and its hosted
//! connect page.

pub mod api;
pub mod assets;
pub mod cli;
pub mod config;
pub mod connect;
pub mod db;
pub mod domain;
pub mod error;
pub mod key_files;
pub mod limits;
pub mod links;
pub mod media;
pub mod metrics;
pub mod oauth;
pub mod outbound;
pub mod publish;
pub mod routes;
pub mod sandbox;
pub mod startup;
pub mod state;
pub mod supervisor;
pub mod telemetry;
pub mod urls;
pub mod web;
pub mod webhooks;

/// Process-wide set-up; call first thing in `main`.
///
/// libpq talks TLS through OpenSSL, which by default frees its global state in an `atexit`
/// handler. A pool thread still opening a connection while the main thread exits then
/// crashes (seen: SIGSEGV in `OPENSSL_cleanup` after a CLI command on PostgreSQL).
/// Initialising OpenSSL ourselves with `OPENSSL_INIT_NO_ATEXIT` removes that handler.
pub fn init_process() {
    openssl_sys::init();
}
