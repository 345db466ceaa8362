//! A key rotated through its Secret: one reconcile sends the new key to the cloud and writes
//! it to the peer Secret; the device still holding the old key is refused, and the newly
//! exported file brings the tunnel up again.
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::cloud_side::{self, key_held, CloudView};
use super::strongswan::Pair;
use super::{
    children, columns, connection_id, key, negotiate, secret_text, write, Outcome, Prepared,
};
use crate::controller::runtime::testing::{World, PROJECT};
use crate::crd::VpnConnection;

pub async fn rotate(w: &World, p: &Prepared, pair: Pair, work: &Path) -> Outcome {
    let started = Instant::now();
    let (i, name) = (p.index, p.case.name);
    let (old, new) = (key(i, false), key(i, true));
    w.put_secret(&format!("psk-{i}"), &[("psk", &new)]);
    w.reconcile::<VpnConnection>(name).await;
    let project = w
        .admin("GET", &format!("/projects/{PROJECT}"), Value::Null)
        .await;
    let id = connection_id(w, name);
    let view = CloudView {
        project: &project,
        connection_id: &id,
    };
    let held = key_held(&view, &[&old, &new]);
    let exported = secret_text(w, &format!("peer-{i}"), "swanctl.conf");
    let one_reconcile = held == new && exported.contains(&new) && !exported.contains(&old);
    let cloud_conf = cloud_side::swanctl_conf(&view, held);
    let dir = work.join(format!("{name}-rotated"));
    let section = super::super::swanctl::section_name(name);
    let (refused, again) = tokio::task::block_in_place(|| {
        pair.cloud.load(&write(&dir, "cloud.conf", &cloud_conf));
        pair.onprem.terminate(&section);
        pair.cloud.terminate("cloud");
        // The device still has the old file: the cloud must refuse its key.
        let (ok, said) = pair.onprem.initiate(&children(p)[0]);
        let refused = !ok && said.contains("AUTHENTICATION_FAILED");
        pair.onprem.load(&write(&dir, "swanctl.conf", &exported));
        (refused, negotiate(&pair, p))
    });
    let (result, as_expected) = match (one_reconcile, refused, again) {
        (true, true, Ok(s)) => (
            format!("key rotated in one reconcile; old key AUTHENTICATION_FAILED; new key {s}"),
            true,
        ),
        (one, refused, again) => (
            format!(
                "FAILED: cloud and Secret updated in one reconcile: {one}; old key refused: \
                 {refused}; new key: {again:?}"
            ),
            false,
        ),
    };
    Outcome {
        name: "static-v2-defaults: PSK rotation",
        columns: columns(&p.json),
        result,
        as_expected,
        took: started.elapsed(),
    }
}
