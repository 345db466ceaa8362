//! TEMPORARY during the port.
pub mod cloud_vpn_service;
pub mod customer_gateway;
mod stubs;
pub mod vpn_gateway;
