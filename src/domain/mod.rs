//! Pure types and rules: parse constructors for everything that comes from outside, no actix
//! and no SQL.

pub mod connect_settings;
pub mod language;
pub mod link_token;
pub mod plan;
pub mod platform;
pub mod profile_fields;
pub mod secrets;
pub mod time;
pub mod username;
pub mod webhooks;

pub use plan::{Limit, Plan};
pub use platform::Platform;
pub use username::{Username, UsernameError};
