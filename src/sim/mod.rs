//! The simulated cloud. (under construction)
pub mod auth;
pub mod clock;
pub mod config;
pub mod counters;
pub mod errors;
pub mod faults;
pub mod state;
pub mod validate;
pub mod world;
