//! Webhook delivery: the worker that drains the outbox (`db::outbox`), the HTTP sender
//! that refuses private targets, and the signing secrets at rest.

pub mod secrets;
pub mod sender;
pub mod worker;
