//! Helpers for the model backend tests: a scripted loopback HTTP server and
//! the fixtures the tests share.

pub mod fixtures;
pub mod http1;
pub mod stub;
