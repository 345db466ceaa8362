//! TEMPORARY during the port.
mod stubs;
pub mod vpn_connection;
pub mod vpn_gateway;
