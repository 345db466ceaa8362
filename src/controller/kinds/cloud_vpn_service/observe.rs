//! Reading IES: the service (by the shared lookup; IES keeps no owner tags, so "this object's
//! service" is the one with its name and `CloudVpnName`), the definition and template to create
//! with, and the line's traffic while the service is idle.
use kube::ResourceExt;

use super::bandwidth::{merge_directions, Point, TRAFFIC_WINDOW};
use super::plan::{is_idle, previous};
use super::{Inputs, Observed, Traffic};
use crate::cloud::ies::IesClient;
use crate::cloud::model::ies::{
    Direction, Indicator, Metric, ServiceInstance, TimeDimension, TrafficQuery,
};
use crate::cloud::CloudError;
use crate::controller::runtime::clock::epoch_seconds;
use crate::controller::runtime::error::{Error, Result};
use crate::controller::runtime::lookup::{self, Absent, Lookup, Search};
use crate::controller::runtime::object::Object;
use crate::controller::runtime::ownership::Ownership;
use crate::crd::cloud_vpn_service::{CloudVpnService, CloudVpnServiceSpec, CloudVpnServiceStatus};
use crate::crd::common::ManagementPolicy;

/// The services of one IES tenant, for the shared lookup.
pub struct Services<'a> {
    pub cloud: &'a IesClient,
    /// The service name this object uses.
    pub name: &'a str,
    /// The object's `CloudVpnName`.
    pub vpn_name: &'a str,
    /// Being deleted: a same-named service of another line is not this object's (nothing
    /// found), rather than a conflict.
    pub deleting: bool,
}

impl Lookup for Services<'_> {
    type Resource = ServiceInstance;

    async fn get(&self, id: &str) -> Result<Option<ServiceInstance>> {
        match self.cloud.get_service(id).await {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The service with this object's name and `CloudVpnName`: the list shows no parameters,
    /// so each same-named service is read.
    async fn find_owned(&self, _uid: &str) -> Result<Option<ServiceInstance>> {
        let mut foreign = None;
        for candidate in self.cloud.find_services_by_name(self.name).await? {
            let Some(svc) = self.get(&candidate.service_id).await? else {
                continue;
            };
            match svc.cloud_vpn_name() {
                Some(n) if n == self.vpn_name => return Ok(Some(svc)),
                other => foreign = Some((svc.service_id.clone(), other.unwrap_or("").to_string())),
            }
        }
        match foreign {
            Some((id, other)) if !self.deleting => Err(Error::OwnershipConflict(format!(
                "an IES service named {} exists ({id}) with CloudVpnName {other}, not {}; set \
                 spec.serviceName to another name or adopt it with spec.cloudId",
                self.name, self.vpn_name
            ))),
            _ => Ok(None),
        }
    }

    fn owner(&self, _svc: &ServiceInstance, _uid: &str) -> Ownership {
        Ownership::Unowned
    }

    fn id(svc: &ServiceInstance) -> &str {
        &svc.service_id
    }
}

/// Finds the object's service, then reads what the plan needs: the definition and template
/// when a service is to be created, the traffic when the service is idle.
pub async fn observe(
    cloud: &IesClient,
    obj: &CloudVpnService,
    inputs: &Inputs,
) -> Result<Observed> {
    let spec = &obj.spec;
    let uid = obj.uid().unwrap_or_default();
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    let deleting = obj.metadata.deletion_timestamp.is_some();
    let services = Services {
        cloud,
        name: &inputs.name,
        vpn_name: &spec.cloud_vpn_name,
        deleting,
    };
    let search = Search {
        recorded: obj.status.as_ref().and_then(|s| s.cloud_id.as_deref()),
        adopt: spec.cloud_id.as_deref(),
        uid: &uid,
        observe_only,
        deleting,
    };
    let found = lookup::find(&services, CloudVpnService::NOUN, &search).await?;
    let mut observed = Observed {
        found,
        definition: None,
        traffic: Traffic::NotRead,
    };
    if deleting {
        return Ok(observed);
    }
    match observed.found.resource() {
        None => {
            let creates = matches!(
                observed
                    .found
                    .absent(spec.cloud_id.as_deref(), observe_only),
                Absent::Create | Absent::Recreate { .. }
            );
            if creates {
                let prev = obj.status.clone().unwrap_or_default();
                observed.definition = Some(resolve_definition(cloud, spec, &prev).await?);
            }
        }
        Some(svc) if is_idle(svc, &previous(obj, &observed.found)) => {
            let vpn_name = svc.cloud_vpn_name().unwrap_or(&spec.cloud_vpn_name);
            let window = match (&spec.autoscaling, observe_only) {
                (Some(a), false) => a.window_seconds,
                _ => TRAFFIC_WINDOW,
            };
            let now = epoch_seconds(&inputs.now);
            observed.traffic = match read_traffic(cloud, vpn_name, window, now).await {
                Ok(points) => Traffic::Read(points),
                Err(e) => {
                    tracing::debug!(error = %e, "could not read CloudVPN traffic");
                    Traffic::Unreadable(e.to_string())
                }
            };
        }
        Some(_) => {}
    }
    Ok(observed)
}

/// The definition id and template id to create with (status, then spec, then the catalog).
pub async fn resolve_definition(
    cloud: &IesClient,
    spec: &CloudVpnServiceSpec,
    prev: &CloudVpnServiceStatus,
) -> Result<(String, String)> {
    if let (Some(d), Some(t)) = (&prev.service_definition_id, &prev.template_id) {
        return Ok((d.clone(), t.clone()));
    }
    let def_id = match (&spec.service_definition.id, &spec.service_definition.name) {
        (Some(id), _) => id.clone(),
        (None, Some(name)) => definition_by_name(cloud, name).await?,
        (None, None) => {
            return Err(Error::InvalidSpec(
                "set serviceDefinition.id or serviceDefinition.name".into(),
            ))
        }
    };
    if let Some(t) = &spec.template_id {
        return Ok((def_id, t.clone()));
    }
    let def = cloud.get_service_definition(&def_id).await.map_err(|e| {
        if e.is_not_found() {
            Error::InvalidSpec(format!("IES service definition {def_id} does not exist"))
        } else {
            e.into()
        }
    })?;
    let templates = def.templates.unwrap_or_default();
    match templates.as_slice() {
        [one] => Ok((def_id, one.id.clone())),
        [] => Err(Error::InvalidSpec(format!(
            "IES service definition {def_id} has no template; set templateId"
        ))),
        many => Err(Error::InvalidSpec(format!(
            "IES service definition {def_id} has {} templates ({}); set templateId",
            many.len(),
            many.iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The id of the one catalog definition named `name`.
async fn definition_by_name(cloud: &IesClient, name: &str) -> Result<String> {
    let defs = cloud.list_service_definitions().await?.data;
    let matching: Vec<&str> = defs
        .iter()
        .filter(|d| d.name.as_deref() == Some(name))
        .map(|d| d.service_def_id.as_str())
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.to_string()),
        [] => {
            let names: Vec<&str> = defs.iter().filter_map(|d| d.name.as_deref()).collect();
            let available = match names.is_empty() {
                true => "none".to_string(),
                false => names.join(", "),
            };
            Err(Error::InvalidSpec(format!(
                "no IES service definition is named {name:?}; available: {available}"
            )))
        }
        many => Err(Error::InvalidSpec(format!(
            "{} IES service definitions are named {name:?} ({}); set serviceDefinition.id",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// Reads both directions of the line's traffic for the `window` seconds before `now`.
async fn read_traffic(
    cloud: &IesClient,
    vpn_name: &str,
    window: i64,
    now: i64,
) -> std::result::Result<Vec<Point>, CloudError> {
    let query = |direction| TrafficQuery {
        direction,
        timedim: TimeDimension::Minute,
        starttime: now - window,
        endtime: now,
        indicator: Some(Indicator::Max),
    };
    let out = cloud
        .traffic(vpn_name, &Metric::TrafficRate, &query(Direction::Outbound))
        .await?
        .samples();
    let inb = cloud
        .traffic(vpn_name, &Metric::TrafficRate, &query(Direction::Inbound))
        .await?
        .samples();
    Ok(merge_directions(&inb, &out))
}
