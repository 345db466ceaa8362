//! The four kinds, each in its own folder with the same files: `mod.rs` (the kind's
//! [`Managed`](super::runtime::contract::Managed) implementation and its inputs), `observe.rs`,
//! `plan.rs`, `act.rs`, `status.rs`, and their tests.
pub mod cloud_vpn_service;
pub mod customer_gateway;
pub mod vpn_connection;
pub mod vpn_gateway;
