//! Which cloud account an object talks to, as named by its `spec.cloud`: plain data, resolved
//! against the operator's defaults into a client by [`super::clouds::Clouds`].

/// The account of an object: a VPN v5 project, or an IES tenant (CloudVpnService).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    Vpn(CloudOverride),
    Ies(IesTarget),
}

impl Account {
    /// The name of the credentials Secret the object names (in its own namespace), if any.
    pub fn credentials_secret_name(&self) -> Option<Box<str>> {
        let secret = match self {
            Account::Vpn(o) => &o.credentials_secret,
            Account::Ies(t) => &t.credentials_secret,
        };
        secret.as_ref().map(|(_, name)| name.as_str().into())
    }
}

/// Per-object VPN settings (from the object's `spec.cloud`); unset fields come from the
/// operator's defaults. `credentials_secret` names a Secret in the object's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CloudOverride {
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub endpoint: Option<String>,
    pub credentials_secret: Option<(String, String)>,
}

/// Per-object IES settings (from a `CloudVpnService`'s `spec.cloud`). `credentials_secret`
/// names a Secret in the object's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IesTarget {
    pub endpoint: Option<String>,
    pub credentials_secret: Option<(String, String)>,
}
