//! `spec.peerConfig`: the on-premises device's configuration, written to a Secret the
//! connection owns and kept current with the cloud.
//!
//! - [`effective`]: what the cloud reports for the connection (after this reconcile's PUT,
//!   when there is one), its gateway and its customer gateway, plus the key the cloud holds.
//!   Pure; nothing is guessed: while a value is not reported the Secret is left as it is.
//! - [`algorithms`]: the Huawei values and their IANA and strongSwan names (data).
//! - [`json`], [`swanctl`], [`text`]: the formats, pure functions of the effective values.
//! - [`secret`]: what to do with the Secret (create, replace, delete, or refuse: another
//!   owner's Secret is never touched), a pure part of the kind's plan; [`write`] carries it
//!   out through the `Kube` port in act; [`status`] reports it (status.peerConfig, Events,
//!   `Synced=False PeerConfigConflict`).
//!
//! The key only ever appears in the Secret's data: `Debug` of every type here redacts it, and
//! status keeps a SHA-256 of the whole content.
use std::collections::BTreeMap;
use std::fmt;

use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::cloud::model::customer_gateway::ResponseCustomerGateway;
use crate::cloud::model::gateway::ResponseVpnGateway;
use crate::crd::vpn_connection::PeerConfigFormat;
use crate::crd::VpnConnection;

use super::plan::{Plan, Update};
use super::{Inputs, Observed};

pub mod algorithms;
pub mod effective;
pub mod json;
pub mod secret;
pub mod status;
pub mod swanctl;
pub mod text;
pub mod write;

pub use secret::{PeerInputs, PeerPlan, Step};
pub use write::PeerActed;

use effective::{after_put, effective, Effective, Reported};

/// The label naming the connection a peer configuration Secret belongs to.
pub const LABEL_CONNECTION: &str = "vpn.hwcloud.dev/connection";
/// The annotation holding the SHA-256 of the content (as in status.peerConfig.sha256).
pub const ANNOTATION_SHA256: &str = "vpn.hwcloud.dev/peer-config-sha256";

/// What `observe` read of the two ends for the export (only with spec.peerConfig).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerEnds {
    /// The connection's gateway, as the cloud reports it.
    pub gateway: Option<ResponseVpnGateway>,
    /// The customer gateway the connection uses (or is about to use), as the cloud reports it.
    pub customer_gateway: Option<ResponseCustomerGateway>,
}

/// The rendered Secret content. `Debug` shows the keys only.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// Secret key → content.
    pub data: BTreeMap<String, String>,
    /// What a format could not express (for status.peerConfig.notes).
    pub notes: Vec<String>,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .field("notes", &self.notes)
            .finish()
    }
}

/// The Secret content for `formats` (each once, in key order).
pub fn render(e: &Effective, formats: &[PeerConfigFormat]) -> Rendered {
    let wanted = |f| formats.contains(&f);
    // strongSwan's limits are named whichever formats are asked for: the JSON lists them too.
    let (swanctl, notes) = swanctl::render(e);
    let mut data = BTreeMap::new();
    for f in PeerConfigFormat::ALL.into_iter().filter(|f| wanted(*f)) {
        let text = match f {
            PeerConfigFormat::Json => json::render(e, &notes),
            PeerConfigFormat::Strongswan => swanctl.clone(),
            PeerConfigFormat::Text => text::render(e, &notes),
        };
        data.insert(f.key().to_string(), text);
    }
    Rendered { data, notes }
}

/// The content to export for `obj` after `cloud` is carried out, or why there is none now:
/// the connection as it is (or as this reconcile's PUT makes it), its two ends, and the key
/// when the cloud holds the one in the Secret.
pub fn content(
    obj: &VpnConnection,
    inputs: &Inputs,
    observed: &Observed,
    cloud: &Plan,
) -> Result<Rendered, String> {
    let Some(spec) = &obj.spec.peer_config else {
        return Err("spec.peerConfig is not set".into());
    };
    let found = observed.found.resource();
    let (conn, update): (_, Option<&Update>) = match (cloud, found) {
        (Plan::Sync { update, .. }, Some(c)) => (c, update.as_deref()),
        (Plan::Wait | Plan::Hold, Some(c)) => (c, None),
        _ => return Err("the connection does not exist in the cloud yet".into()),
    };
    let conn = match update {
        Some(u) => after_put(conn, &u.body),
        None => conn.clone(),
    };
    let psk = match &inputs.psk {
        Ok(Some(p)) => {
            let recorded = obj.status.as_ref().and_then(|s| s.psk_sha256.as_deref());
            let sent = update.is_some_and(|u| u.rotates_psk);
            if recorded != Some(p.sha256.as_str()) && !sent {
                return Err("the cloud does not hold the pre-shared key of the Secret yet".into());
            }
            Some(&p.value)
        }
        Ok(None) => None,
        Err(p) => return Err(format!("the pre-shared key cannot be read: {}", p.problem)),
    };
    let ends = observed.peer.as_ref();
    let (Some(gateway), Some(customer_gateway)) = (
        ends.and_then(|e| e.gateway.as_ref()),
        ends.and_then(|e| e.customer_gateway.as_ref()),
    ) else {
        return Err("the gateway and customer gateway were not read from the cloud".into());
    };
    let reported = Reported {
        connection: &conn,
        gateway,
        customer_gateway,
    };
    let ns = obj.namespace().unwrap_or_default();
    let e = effective((&ns, &obj.name_any()), reported, psk)?;
    Ok(render(&e, &spec.formats))
}

/// Hex SHA-256 of Secret content: every key and value, keys in order, each followed by a zero
/// byte.
pub fn content_sha256<V: AsRef<[u8]>>(data: &BTreeMap<String, V>) -> String {
    let mut h = Sha256::new();
    for (k, v) in data {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_ref());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reconcile_tests;

#[cfg(test)]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod interop;
