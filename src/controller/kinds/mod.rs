//! TEMPORARY during the port.
pub mod cloud_vpn_service;
pub mod customer_gateway;
pub mod vpn_gateway;
mod stubs;
