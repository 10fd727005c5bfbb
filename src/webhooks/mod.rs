//! Webhook delivery: the worker that drains the outbox (`db::outbox`) and the HTTP sender
//! that refuses private targets.

pub mod sender;
pub mod worker;
