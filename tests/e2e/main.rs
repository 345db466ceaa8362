//! End-to-end suite: the real `vpn-operator` binary, the simulator and real `kubectl` against a
//! Kubernetes API (the kube stand-in in CI, or a real cluster). See `harness.rs` for how to run it.
mod cloud_vpn_service;
mod harness;
mod safety;
mod vpn;
