//! Publishing: the job engine that takes an accepted upload to every platform it names,
//! once, and the publishers that speak each platform's publishing API.

pub mod engine;
pub mod http;
pub mod layout;
pub mod publisher;
pub mod publishers;
pub mod report;
pub mod results;
pub mod text;
pub mod video;
