//! TEMPORARY during the port.
pub mod vpn_gateway;
mod stubs;
