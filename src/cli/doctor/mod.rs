//! `vpn-operator doctor` (being written).
