//! TEMPORARY during the port.
pub mod customer_gateway;
mod stubs;
pub mod vpn_gateway;
