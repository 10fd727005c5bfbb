//! The hosted connect page: server-rendered HTML for end users, reached through a connect
//! link's token. `routes` mounts the handlers.

pub mod accounts;
pub mod assets;
pub mod bounce;
pub mod failure;
pub mod headers;
pub mod i18n;
pub mod pages;
pub mod templates;
mod translations;
