//! Pure types and rules: parse constructors for everything that comes from outside, no actix
//! and no SQL.

pub mod calendar;
pub mod connect_settings;
pub mod database_url;
pub mod language;
pub mod link_token;
pub mod plan;
pub mod platform;
pub mod platform_list;
pub mod profile_fields;
pub mod queue;
pub mod schedule;
pub mod secret;
pub mod secrets;
pub mod sign_in;
pub mod text;
pub mod tid;
pub mod time;
pub mod token_cipher;
pub mod upload;
pub mod usage;
pub mod username;
pub mod webhooks;
pub(crate) mod wire;

pub use plan::{Limit, Plan};
pub use platform::Platform;
pub use secret::Secret;
pub use username::{Username, UsernameError};

#[cfg(test)]
pub(crate) mod untrusted_input;
