use crate::controller::runtime::account::Account;
use crate::controller::runtime::object::{vpn_account, Link, Links, Object};
use crate::crd::{VpnConnection, VpnConnectionSpec, VpnConnectionStatus};

impl Object for VpnConnection {
    const KIND: &'static str = "VpnConnection";
    const NOUN: &'static str = "connection";
    type Spec = VpnConnectionSpec;
    type Status = VpnConnectionStatus;
    fn account(&self) -> Account {
        vpn_account(self, self.spec.cloud.as_ref())
    }
    fn links(&self) -> Links {
        let spec = &self.spec;
        let status = self.status.as_ref();
        let link = |r: &crate::crd::common::ResourceRef, resolved: Option<&String>| {
            Link::new(
                r.name.as_deref(),
                r.cloud_id.as_deref(),
                resolved.map(String::as_str),
            )
        };
        Links {
            credentials_secret: self.account().credentials_secret_name(),
            gateway: link(
                &spec.vpn_gateway_ref,
                status.and_then(|s| s.vpn_gateway_id.as_ref()),
            ),
            customer_gateway: link(
                &spec.customer_gateway_ref,
                status.and_then(|s| s.customer_gateway_id.as_ref()),
            ),
            psk_secret: spec.psk_secret_ref.as_ref().map(|s| s.name.as_str().into()),
        }
    }
}
