//! The day-2 parts of a gateway's status: the upgrade ([`super::upgrade`]), the GM certificate
//! ([`super::certificate`]) and the routes ([`super::routes`]), with their Events and the
//! conditions they change. Pure.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::model::gateway::GatewayStatus;
use crate::controller::runtime::events::Note;
use crate::controller::runtime::status::{set, Cond};
use crate::crd::common::{reasons, types, ManagementPolicy};
use crate::crd::vpn_gateway::{UpgradePolicy, VpnGateway, VpnGatewayStatus};
use crate::crd::UPGRADE_ANNOTATION;

use super::plan::upgrade_facts;
use super::upgrade::{self, Called};
use super::{certificate, routes, Acted, Observed, Plan};

/// How often a binding GM certificate is looked at.
pub const CERTIFICATE_POLL: std::time::Duration = std::time::Duration::from_secs(5);

pub fn certificate_binding(status: &VpnGatewayStatus) -> bool {
    status
        .certificate
        .as_ref()
        .is_some_and(|c| c.status.as_deref() == Some("BINDING"))
}

/// The day-2 parts of the status (upgrade, GM certificate, routes), their Events, and the
/// conditions they change: the message of an upgrade waiting for confirmation, and `Synced`
/// for a certificate that failed to bind.
pub fn status(
    obj: &VpnGateway,
    observed: &Observed,
    plan: &Plan,
    acted: &Acted,
    status: &mut VpnGatewayStatus,
    now: &Time,
) -> Vec<Note> {
    let gen = obj.metadata.generation;
    let prev = obj.status.clone().unwrap_or_default();
    let id = status.cloud_id.clone().unwrap_or_default();
    let mut notes = Vec::new();
    // Upgrade: decided from the state observed before acting.
    let observed_state = observed
        .gateway()
        .and_then(|g| g.status.clone())
        .unwrap_or(GatewayStatus::PendingCreate);
    let facts = upgrade_facts(obj, observed, &observed_state, now);
    let step = match obj.spec.management_policy {
        ManagementPolicy::Observe => observe_refusal(&facts),
        _ => upgrade::decide(&facts),
    };
    let called = match (plan, acted) {
        (Plan::Upgrade { action, why, .. }, Acted::Upgraded { job }) => Some(Called {
            action,
            why,
            job_id: job.as_deref(),
        }),
        _ => None,
    };
    let (upgrade, n) = upgrade::next_status(&facts, &step, called, &id);
    status.upgrade = upgrade;
    notes.extend(n);
    if status.cloud_state.as_deref() == Some(GatewayStatus::PendingUpgradeConfirm.as_str()) {
        let message = pending_confirm_message(&facts, now);
        let c = Cond::no(reasons::UPGRADE_PENDING_CONFIRM, message);
        set(&mut status.conditions, now, types::READY, c, gen);
    }
    // GM certificate.
    let sent = match (plan, acted) {
        (Plan::Certificate { step, sha256, .. }, Acted::Certificate(answer)) => {
            Some((step, answer, sha256.as_str()))
        }
        _ => None,
    };
    let (certificate, n) = match (&observed.certificate, sent) {
        (None, None) => (prev.certificate.clone(), Vec::new()),
        (seen, sent) => certificate::next_status(
            prev.certificate.as_ref(),
            seen.as_ref().and_then(Option::as_ref),
            sent,
            &id,
        ),
    };
    status.certificate = certificate;
    notes.extend(n);
    let fault = status
        .certificate
        .as_ref()
        .is_some_and(|c| c.status.as_deref() == Some("FAULT"));
    if fault && !matches!(plan, Plan::Certificate { .. }) {
        let c = Cond::no(reasons::CLOUD_FAULT, certificate::fault_message(&id));
        set(&mut status.conditions, now, types::SYNCED, c, gen);
    }
    // Routes.
    let bgp = observed
        .connections
        .as_ref()
        .map(|c| c.iter().any(|c| c.bgp));
    status.routes = routes::status(observed.routes.as_ref(), bgp, prev.routes.as_ref(), now);
    notes
}

/// An observe-only gateway changes nothing: an upgrade annotation is refused, once per value.
fn observe_refusal(f: &upgrade::Facts) -> upgrade::Step {
    let handled = f.prev.and_then(|p| p.requested.as_deref());
    match f.annotation.filter(|v| Some(*v) != handled) {
        Some(value) => upgrade::Step::Refuse {
            value: value.to_string(),
            message: format!(
                "{UPGRADE_ANNOTATION}={value} was not acted on: managementPolicy is Observe"
            ),
        },
        None => upgrade::Step::None,
    }
}

/// `Ready`'s message while an upgrade waits for confirmation: who decides, and how.
fn pending_confirm_message(f: &upgrade::Facts, now: &Time) -> String {
    let base = "the upgrade of the VPN gateway waits for confirmation (PENDING_UPGRADE_CONFIRM); \
                it accepts no other change until then";
    match f.policy {
        UpgradePolicy::Manual => format!(
            "{base}: annotate it with {UPGRADE_ANNOTATION}=finish to keep the new software or \
             {UPGRADE_ANNOTATION}=rollback to undo it"
        ),
        UpgradePolicy::Auto => {
            let left = f.window.saturating_sub(upgrade::waited(f.prev, now));
            format!(
                "{base}: spec.upgrade.policy is Auto, so the operator finishes it once every \
                 connection of the gateway is ACTIVE again, or rolls it back in {} s",
                left.as_secs()
            )
        }
    }
}
