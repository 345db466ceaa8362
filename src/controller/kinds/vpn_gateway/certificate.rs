//! GM gateway certificates (reference §4.10-4.12): the Secret of `spec.certificate` read into
//! [`Material`], imported once the gateway is ACTIVE, updated when the Secret changes (its hash
//! differs from `status.certificate.secretSha256`), and `status.certificate` from what the cloud
//! reports (`BINDING` → `BOUND`, or `FAULT`). The keys never leave the Secret except towards the
//! cloud: `Debug` and the status show hashes only.
use std::fmt;

use sha2::{Digest, Sha256};

use crate::cloud::model::common::Redacted;
use crate::cloud::model::gateway::{
    CertificateStatus, CreateVpnGatewayCertificateBody, UpdateVpnGatewayCertificateBody,
    VpnGatewayCertificate,
};
use crate::controller::runtime::context::Context;
use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::events::{
    actions, Note, CERTIFICATE_BOUND, CERTIFICATE_FAULT, CERTIFICATE_IMPORTED, CERTIFICATE_UPDATED,
};
use crate::controller::runtime::secrets::{SecretData, SecretProblem};
use crate::crd::vpn_gateway::{GatewayCertificateSpec, GatewayCertificateStatus};

/// The Secret keys of `spec.certificate.secretRef`, with the field each feeds and its limit.
pub const KEYS: [(&str, usize); 5] = [
    ("certificate", 4096),
    ("privateKey", 4096),
    ("encCertificate", 4096),
    ("encPrivateKey", 4096),
    ("certificateChain", 8192),
];

/// A GM gateway's certificates and keys, as read from the Secret.
#[derive(Clone, PartialEq)]
pub struct Material {
    pub name: Option<String>,
    pub certificate: String,
    pub private_key: Redacted<String>,
    pub enc_certificate: String,
    pub enc_private_key: Redacted<String>,
    pub certificate_chain: String,
    /// Hex SHA-256 of all of it (name included): what status records.
    pub sha256: String,
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Material")
            .field("name", &self.name)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl Material {
    /// The import body.
    pub fn create_body(&self) -> CreateVpnGatewayCertificateBody {
        CreateVpnGatewayCertificateBody {
            name: self.name.clone(),
            certificate: self.certificate.clone(),
            private_key: self.private_key.clone(),
            certificate_chain: self.certificate_chain.clone(),
            enc_certificate: self.enc_certificate.clone(),
            enc_private_key: self.enc_private_key.clone(),
        }
    }

    /// The update body: everything (the cloud cannot say which part changed).
    pub fn update_body(&self) -> UpdateVpnGatewayCertificateBody {
        UpdateVpnGatewayCertificateBody {
            name: self.name.clone(),
            certificate: Some(self.certificate.clone()),
            private_key: Some(self.private_key.clone()),
            certificate_chain: Some(self.certificate_chain.clone()),
            enc_certificate: Some(self.enc_certificate.clone()),
            enc_private_key: Some(self.enc_private_key.clone()),
        }
    }
}

/// The material from a Secret's data, or what is wrong with it (never a value).
pub fn material(data: &SecretData, name: Option<&str>) -> std::result::Result<Material, String> {
    let mut values = Vec::with_capacity(KEYS.len());
    for (key, max) in KEYS {
        let bytes = data
            .get(key)
            .ok_or_else(|| format!("has no key {key:?}; it needs {}", key_list()))?;
        let text =
            std::str::from_utf8(bytes).map_err(|_| format!("key {key:?} is not UTF-8 text"))?;
        let len = text.trim().chars().count();
        if !(1..=max).contains(&len) {
            return Err(format!(
                "key {key:?} must hold 1-{max} characters of PEM text (it has {len})"
            ));
        }
        values.push(text.to_string());
    }
    let mut h = Sha256::new();
    h.update(name.unwrap_or_default());
    for v in &values {
        h.update([0]);
        h.update(v.as_bytes());
    }
    let mut v = values.into_iter();
    let mut next = || v.next().unwrap_or_default();
    Ok(Material {
        name: name.map(str::to_string),
        certificate: next(),
        private_key: Redacted::new(next()),
        enc_certificate: next(),
        enc_private_key: Redacted::new(next()),
        certificate_chain: next(),
        sha256: hex::encode(h.finalize()),
    })
}

fn key_list() -> String {
    KEYS.map(|(k, _)| k).join(", ")
}

/// The material `spec` names in `namespace`, from the runtime's Secret cache.
pub async fn read(
    ctx: &Context,
    namespace: &str,
    spec: &GatewayCertificateSpec,
) -> Result<std::result::Result<Material, SecretProblem>> {
    let name = &spec.secret_ref.name;
    let problem = |problem: String| SecretProblem {
        namespace: namespace.to_string(),
        name: name.clone(),
        problem,
    };
    let Some(data) = ctx.kube.secret(namespace, name).await? else {
        return Ok(Err(problem(format!(
            "not found; create it with the GM certificates and keys under {}",
            key_list()
        ))));
    };
    Ok(material(&data.data, spec.name.as_deref()).map_err(problem))
}

/// What to do about the certificate of an ACTIVE GM gateway.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Import(Box<CreateVpnGatewayCertificateBody>),
    Update {
        certificate_id: String,
        body: Box<UpdateVpnGatewayCertificateBody>,
    },
}

/// Decides the certificate step: import when the cloud has none, update when the Secret's hash
/// is not the one last sent (or none was recorded: the cloud cannot tell which it holds).
/// A Secret that cannot be used stops the reconcile (`SecretNotReady`).
pub fn plan(
    material: Option<&std::result::Result<Material, SecretProblem>>,
    seen: Option<&VpnGatewayCertificate>,
    recorded_sha256: Option<&str>,
) -> Result<Option<(Step, String)>> {
    let Some(m) = material else { return Ok(None) };
    let m = m.clone().map_err(Error::from)?;
    let step = match seen {
        None => Step::Import(Box::new(m.create_body())),
        Some(c) if recorded_sha256 != Some(m.sha256.as_str()) => Step::Update {
            certificate_id: c.id.clone().unwrap_or_default(),
            body: Box::new(m.update_body()),
        },
        Some(_) => return Ok(None),
    };
    Ok(Some((step, m.sha256)))
}

/// `status.certificate` from what the cloud reports (`seen`, or the answer of an import or
/// update just made, which binds again), and the Events of a change.
pub fn next_status(
    prev: Option<&GatewayCertificateStatus>,
    seen: Option<&VpnGatewayCertificate>,
    sent: Option<(&Step, &VpnGatewayCertificate, &str)>,
    gateway: &str,
) -> (Option<GatewayCertificateStatus>, Vec<Note>) {
    let describe = |c: &VpnGatewayCertificate, sha: Option<String>, status: Option<String>| {
        GatewayCertificateStatus {
            id: c.id.clone(),
            name: c.name.clone(),
            status,
            expires_at: c.certificate_expire_time.as_ref().map(|t| t.to_string()),
            enc_expires_at: c
                .enc_certificate_expire_time
                .as_ref()
                .map(|t| t.to_string()),
            chain_expires_at: c
                .certificate_chain_expire_time
                .as_ref()
                .map(|t| t.to_string()),
            secret_sha256: sha,
        }
    };
    let recorded = prev.and_then(|p| p.secret_sha256.clone());
    if let Some((step, answer, sha)) = sent {
        let (reason, verb) = match step {
            Step::Import(_) => (CERTIFICATE_IMPORTED, "imported"),
            Step::Update { .. } => (CERTIFICATE_UPDATED, "updated"),
        };
        let status = describe(answer, Some(sha.to_string()), Some("BINDING".into()));
        let id = answer.id.as_deref().unwrap_or_default();
        let note = Note::normal(
            reason,
            if matches!(step, Step::Import(_)) { actions::CREATE } else { actions::UPDATE },
            format!("{verb} the GM certificate {id} of VPN gateway {gateway}; waiting for it to be BOUND"),
        );
        return (Some(status), vec![note]);
    }
    let Some(c) = seen else {
        return (None, Vec::new());
    };
    let state = c.status.as_ref().map(|s| s.to_string());
    let status = describe(c, recorded, state.clone());
    let mut notes = Vec::new();
    let before = prev.and_then(|p| p.status.clone());
    if before != state {
        let id = c.id.as_deref().unwrap_or_default();
        match c.status {
            Some(CertificateStatus::Bound) => notes.push(Note::normal(
                CERTIFICATE_BOUND,
                actions::OBSERVE,
                format!("the GM certificate {id} of VPN gateway {gateway} is BOUND"),
            )),
            Some(CertificateStatus::Fault) => notes.push(Note::warning(
                CERTIFICATE_FAULT,
                actions::OBSERVE,
                fault_message(gateway),
            )),
            _ => {}
        }
    }
    (Some(status), notes)
}

/// Why a certificate is `FAULT`, and what to do.
pub fn fault_message(gateway: &str) -> String {
    format!(
        "the GM certificate of VPN gateway {gateway} failed to bind (FAULT): check the \
         certificates and keys in the Secret of spec.certificate; the operator updates the \
         certificate when the Secret changes"
    )
}
