//! Postgate: a self-hosted server for the Upload-Post user-profiles API and its hosted
//! connect page.

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod startup;
pub mod state;
pub mod telemetry;
