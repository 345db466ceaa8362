//! End-to-end suite: the real `vpn-operator` binary, the simulator and real `kubectl` against a
//! Kubernetes API (the kube stand-in in CI, or a real cluster). See `harness.rs` for how to run it.
//!
//! A `harness = false` target run by `tests/kube_suite/`: without `VPN_E2E_KUBECONFIG` every
//! scenario is reported as ignored. Each scenario is registered by one line in `main`.
#[path = "../kube_suite/mod.rs"]
mod kube_suite;

mod cloud_vpn_service;
mod harness;
mod safety;
mod vpn;

use std::process::ExitCode;

use kube_suite::scenario;

fn main() -> ExitCode {
    kube_suite::main(vec![
        scenario!(cloud_vpn_service::cloud_vpn_service_apply_resize_and_delete),
        scenario!(cloud_vpn_service::cloud_vpn_service_autoscales_with_the_load),
        scenario!(cloud_vpn_service::cloud_vpn_service_orphan_keeps_the_line),
        scenario!(safety::lost_create_responses_and_kills_never_duplicate),
        scenario!(safety::adoption_by_cloud_id_and_refusal_of_foreign_resources),
        scenario!(safety::orphan_leaves_every_kind_in_the_cloud),
        scenario!(safety::pause_stops_every_cloud_call),
        scenario!(safety::observe_only_reads_and_reports_but_never_writes),
        scenario!(safety::drift_is_detected_corrected_and_reported),
        scenario!(safety::psk_rotation_follows_the_secret_without_a_spec_change),
        scenario!(safety::random_faults_converge_without_a_retry_storm),
        scenario!(safety::auth_failures_and_invalid_specs_wait_for_a_fix),
        scenario!(safety::health_check_creates_and_deletes_the_connection_monitor),
        scenario!(safety::per_object_cloud_settings_reach_another_project),
        scenario!(vpn::apply_update_and_delete_with_kubectl),
        scenario!(vpn::connection_applied_before_its_gateway_waits_then_converges),
    ])
}
