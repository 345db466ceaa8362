//! VPN v5 wire models. (models/client work)
