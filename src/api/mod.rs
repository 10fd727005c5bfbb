//! The JSON API's handlers, one file per resource; `routes` mounts them.

pub mod accounts;
pub mod deliveries;
pub mod extract;
pub mod health;
pub mod links;
pub mod me;
pub mod media_uploads;
pub mod notifications;
pub mod posts;
pub mod preferences;
pub mod queue;
pub mod responses;
pub mod schedule;
pub mod schemas;
pub mod targets;
pub mod upload_form;
pub mod upload_reports;
pub mod uploads;
pub mod usage;
pub mod users;
pub mod views;
