//! TEMPORARY during the port: `impl Object` for kinds not ported yet, so that ported kinds can
//! read them from Kubernetes.
use crate::controller::runtime::account::Account;
use crate::controller::runtime::object::{vpn_account, Object};
use crate::crd::{CustomerGateway, CustomerGatewaySpec, CustomerGatewayStatus};

// TEMPORARY: until the CustomerGateway port (branch `contract`) lands with its own
// `impl Object`; then delete this impl. The VpnConnection kind reads CustomerGateway objects
// through `ctx.kube.get::<CustomerGateway>`, which needs it.
impl Object for CustomerGateway {
    const KIND: &'static str = "CustomerGateway";
    const NOUN: &'static str = "customer gateway";
    type Spec = CustomerGatewaySpec;
    type Status = CustomerGatewayStatus;
    fn account(&self) -> Account {
        vpn_account(self, self.spec.cloud.as_ref())
    }
}
