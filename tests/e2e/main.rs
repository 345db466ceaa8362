//! End-to-end suite: the real `vpn-operator` binary, the simulator and real `kubectl` against a
//! Kubernetes API (the kube stand-in in CI, or a real cluster). See `harness.rs` for how to run it.
//!
//! A `harness = false` target run by `tests/kube_suite/`: without `VPN_E2E_KUBECONFIG` every
//! scenario is reported as ignored. Each scenario is registered by one line in `main`.
//!
//! What is here needs the API server: kubectl, watches, finalizers, Secrets, a killed operator,
//! and one full lifecycle per kind. Behaviour that only needs time to pass (backoff, cooldowns,
//! pause, faults, drift, adoption, Observe, orphan) is proven in the cluster-free tier
//! (`src/controller/kinds/*/reconcile_tests.rs`, `src/controller/scenarios.rs`) on a simulated
//! clock.
#[path = "../kube_suite/mod.rs"]
mod kube_suite;

mod cloud_vpn_service;
mod harness;
mod namespaces;
mod peer_config;
mod plan;
mod safety;
mod vpn;

use std::process::ExitCode;

use kube_suite::scenario;

fn main() -> ExitCode {
    kube_suite::main(vec![
        scenario!(cloud_vpn_service::cloud_vpn_service_apply_resize_and_delete),
        scenario!(
            peer_config::peer_config_secret_follows_the_connection_and_never_takes_another_owners
        ),
        scenario!(safety::lost_create_responses_and_kills_never_duplicate),
        scenario!(safety::psk_rotation_follows_the_secret_without_a_spec_change),
        scenario!(safety::a_fixed_credentials_secret_is_enough),
        scenario!(safety::per_object_cloud_settings_reach_another_project),
        scenario!(safety::a_namespace_account_binds_its_objects_and_keeps_them_when_it_changes),
        scenario!(vpn::apply_update_and_delete_with_kubectl),
        scenario!(vpn::connection_applied_before_its_gateway_waits_then_converges),
        scenario!(plan::plan_and_doctor_read_only_against_a_cluster),
        scenario!(namespaces::only_the_watched_namespaces_are_reconciled),
    ])
}
