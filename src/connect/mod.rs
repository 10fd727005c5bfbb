//! The hosted connect page: server-rendered HTML for end users, reached through a connect
//! link's token. `routes` mounts the handlers.

pub mod accounts;
pub mod accounts_tab;
pub mod assets;
pub mod bounce;
pub mod calendar_tab;
pub mod failure;
pub mod headers;
pub mod i18n;
pub mod page;
pub mod templates;
mod translations;
