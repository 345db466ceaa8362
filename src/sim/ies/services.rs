//! Service instances and their asynchronous state machine, independent of HTTP.
//!
//! | Operation | Answer | While running | When the delay has passed |
//! |---|---|---|---|
//! | create | 202, `service_id` + `operation_id` | `status: Processing`, `active_status: Deactive` | `Completed`, `Active` |
//! | update | 202, `operation_id` | `Processing` (old parameters) | `Completed`, new parameters |
//! | delete | 202, `operation_id` | `Deleting` | gone: GET answers 404 |
//!
//! A failure scripted with [`ServiceStore::fail_next`] ends as `onfailure: rollback` would:
//! a failed create leaves `status: Failed`; a failed update ends `Completed` with the old
//! parameters (the caveat of reference §7.4); a failed delete ends `Completed`.
//!
//! ASSUMPTIONS (undocumented): the in-progress values `Processing` / `Deleting` / `Failed`;
//! 409 for a change while another operation runs; one line (one list element) per instance;
//! `CloudVpnName` unique among instances; only `Bandwidth` (and the description) can change.
//! Transitions are lazy: every call first applies those whose time has come ([`advance`]).
//!
//! [`advance`]: ServiceStore::advance
use std::collections::BTreeMap;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::{Deserialize, Serialize};

use super::config::{DefinitionConfig, IesDelays, PresetService};
use super::errors::{IesError, IesResult};
use crate::cloud::model::ies::{
    param, ActiveStatus, OperationAccepted, ParameterAction, ParameterSet, ServiceInstance,
    ServiceParameters, ServiceRequest, ServiceStatus, TopologyList,
};

/// Which operation is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

/// A running operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub op: OpKind,
    pub operation_id: String,
    pub due: DateTime<Utc>,
    /// Update: the parameters after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    /// Update: the description after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Ends in failure (rollback).
    #[serde(default)]
    pub fail: bool,
}

/// A simulated service instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub service_id: String,
    pub name: String,
    pub description: String,
    pub service_definition_id: String,
    pub template_id: String,
    /// `Site2SiteList` or `Site2DCList`.
    pub topology: String,
    /// The line's parameters as GET shows them (no `action`).
    pub params: BTreeMap<String, String>,
    pub status: ServiceStatus,
    pub active_status: ActiveStatus,
    pub created: DateTime<Utc>,
    pub pending: Option<Pending>,
    /// When each bandwidth took effect (the line is up from the first entry on).
    pub bandwidth_history: Vec<(DateTime<Utc>, i64)>,
    pub last_operation_id: Option<String>,
}

impl Service {
    /// `CloudVpnName` (always set: validated on create).
    pub fn cloud_vpn_name(&self) -> &str {
        self.params
            .get(param::CLOUD_VPN_NAME)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// `Bandwidth` as a number (0 if unreadable, which validation prevents).
    pub fn bandwidth(&self) -> i64 {
        ParameterSet(self.params.clone()).bandwidth().unwrap_or(0)
    }

    /// The bandwidth in effect at `t`, or `None` before the line was up.
    pub fn bandwidth_at(&self, t: DateTime<Utc>) -> Option<i64> {
        self.bandwidth_history
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|(_, b)| *b)
    }

    /// The wire view: the list element (without parameters) or the GET view (with them).
    pub fn view(&self, tenant: &str, with_parameters: bool) -> ServiceInstance {
        ServiceInstance {
            service_id: self.service_id.clone(),
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            creator: Some(tenant.to_string()),
            service_definition_id: Some(self.service_definition_id.clone()),
            template_id: Some(self.template_id.clone()),
            active_status: Some(self.active_status.clone()),
            status: Some(self.status.clone()),
            created_at: Some(self.created.timestamp_millis()),
            nfv_tag: Some(serde_json::Value::Null),
            tenant_id: None,
            tenant_name: None,
            parameters: with_parameters.then(|| {
                ServiceParameters::single(
                    &TopologyList::parse(&self.topology),
                    ParameterSet(self.params.clone()),
                )
            }),
        }
    }

    fn operating(&self) -> Option<&'static str> {
        match self.pending.as_ref().map(|p| p.op) {
            Some(OpKind::Create) => Some("being created"),
            Some(OpKind::Update) => Some("being updated"),
            Some(OpKind::Delete) => Some("being deleted"),
            None => None,
        }
    }
}

/// Operations scripted to fail, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FailNext {
    pub create: u32,
    pub update: u32,
    pub delete: u32,
}

/// A change of a service made behind the API's back (admin drift).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServicePatch {
    pub status: Option<String>,
    pub active_status: Option<String>,
    pub description: Option<String>,
    /// Parameter values to set; `null` removes one.
    pub parameters: BTreeMap<String, Option<String>>,
}

/// Every service instance of the tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServiceStore {
    pub services: BTreeMap<String, Service>,
    pub fail_next: FailNext,
}

/// A 22-character base64url id, like the deck's `service_id` / `operation_id` values (a v4
/// UUID's 16 bytes).
pub fn new_id() -> String {
    base64url(uuid::Uuid::new_v4().as_bytes())
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn after(now: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    now + ChronoDuration::from_std(d).unwrap_or_else(|_| ChronoDuration::days(365))
}

/// The one list element of a request, with its list, checked against the template.
fn one_line<'a>(
    parameters: Option<&'a ServiceParameters>,
    allowed: &[String],
) -> IesResult<(String, &'a ParameterSet)> {
    let Some(p) = parameters else {
        return Err(IesError::invalid(
            "service.parameters is required (Site2SiteList or Site2DCList with one element)",
        ));
    };
    let lists: Vec<(&String, &Vec<ParameterSet>)> = p.0.iter().collect();
    let [(list, elements)] = lists.as_slice() else {
        return Err(IesError::invalid(format!(
            "service.parameters must hold exactly one topology list ({}), found {}",
            allowed.join(" or "),
            lists.len()
        )));
    };
    if !allowed.iter().any(|a| a == *list) {
        return Err(IesError::invalid(format!(
            "parameter list {list} is not supported by this template; use {}",
            allowed.join(" or ")
        )));
    }
    let [element] = elements.as_slice() else {
        return Err(IesError::invalid(format!(
            "{list} must hold exactly one element (one line per service), found {}",
            elements.len()
        )));
    };
    Ok(((*list).clone(), element))
}

fn check_bandwidth(line: &ParameterSet, max: i64) -> IesResult<i64> {
    let Some(raw) = line.get(param::BANDWIDTH) else {
        return Err(IesError::invalid("parameter Bandwidth is required"));
    };
    match line.bandwidth() {
        Some(b) if (1..=max).contains(&b) => Ok(b),
        _ => Err(IesError::invalid(format!(
            "parameter Bandwidth {raw:?} must be an integer from 1 to {max}"
        ))),
    }
}

fn check_action(line: &ParameterSet, want: ParameterAction) -> IesResult<()> {
    match line.action() {
        None => Ok(()),
        Some(a) if a == want => Ok(()),
        Some(a) => Err(IesError::invalid(format!(
            "parameter action must be \"{want}\" here, not \"{a}\""
        ))),
    }
}

fn without_action(line: &ParameterSet) -> BTreeMap<String, String> {
    let mut m = line.0.clone();
    m.remove(param::ACTION);
    m
}

impl ServiceStore {
    /// A store holding the presets (`Completed` from `now`).
    pub fn with_presets(presets: &[PresetService], now: DateTime<Utc>) -> Result<Self, String> {
        let mut store = Self::default();
        for p in presets {
            store.add_preset(p, now)?;
        }
        Ok(store)
    }

    /// Adds a `Completed` service (admin and presets).
    pub fn add_preset(&mut self, p: &PresetService, now: DateTime<Utc>) -> Result<(), String> {
        let line = ParameterSet(p.parameters.clone());
        let name = line
            .cloud_vpn_name()
            .filter(|n| !n.is_empty())
            .ok_or("a preset needs parameters.CloudVpnName")?
            .to_string();
        let bw = line
            .bandwidth()
            .ok_or("a preset needs a numeric parameters.Bandwidth")?;
        if self.services.contains_key(&p.service_id) {
            return Err(format!("service id {} exists already", p.service_id));
        }
        if self.by_connection(&name).is_some() {
            return Err(format!("CloudVpnName {name} is used already"));
        }
        self.services.insert(
            p.service_id.clone(),
            Service {
                service_id: p.service_id.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                service_definition_id: p.service_definition_id.clone(),
                template_id: p.template_id.clone(),
                topology: p.topology.clone(),
                params: without_action(&line),
                status: ServiceStatus::Completed,
                active_status: ActiveStatus::parse(&p.active_status),
                created: now,
                pending: None,
                bandwidth_history: vec![(now, bw)],
                last_operation_id: None,
            },
        );
        Ok(())
    }

    /// Applies every transition due at `now`.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        let mut gone = Vec::new();
        for s in self.services.values_mut() {
            let Some(p) = s.pending.clone().filter(|p| p.due <= now) else {
                continue;
            };
            s.pending = None;
            match (p.op, p.fail) {
                (OpKind::Create, false) => {
                    s.status = ServiceStatus::Completed;
                    s.active_status = ActiveStatus::Active;
                    let bw = s.bandwidth();
                    s.bandwidth_history.push((p.due, bw));
                }
                (OpKind::Create, true) => {
                    s.status = ServiceStatus::Failed;
                    s.active_status = ActiveStatus::Deactive;
                }
                (OpKind::Update, false) => {
                    let before = s.bandwidth();
                    if let Some(params) = p.params {
                        s.params = params;
                    }
                    if let Some(d) = p.description {
                        s.description = d;
                    }
                    s.status = ServiceStatus::Completed;
                    let bw = s.bandwidth();
                    if bw != before {
                        s.bandwidth_history.push((p.due, bw));
                    }
                }
                // Rollback: the old values stay and the status reads Completed again.
                (OpKind::Update, true) | (OpKind::Delete, true) => {
                    s.status = ServiceStatus::Completed;
                }
                (OpKind::Delete, false) => gone.push(s.service_id.clone()),
            }
        }
        for id in gone {
            self.services.remove(&id);
        }
    }

    /// The live instance using connection name `name`.
    pub fn by_connection(&self, name: &str) -> Option<&Service> {
        self.services.values().find(|s| s.cloud_vpn_name() == name)
    }

    fn take_failure(&mut self, op: OpKind) -> bool {
        let slot = match op {
            OpKind::Create => &mut self.fail_next.create,
            OpKind::Update => &mut self.fail_next.update,
            OpKind::Delete => &mut self.fail_next.delete,
        };
        if *slot > 0 {
            *slot -= 1;
            true
        } else {
            false
        }
    }

    /// `POST /servicemanager/v1/services`.
    pub fn create(
        &mut self,
        req: &ServiceRequest,
        catalog: &[DefinitionConfig],
        delays: &IesDelays,
        now: DateTime<Utc>,
    ) -> IesResult<OperationAccepted> {
        let body = &req.service;
        let name = body
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| IesError::invalid("service.name is required"))?;
        if name.chars().count() > 128 {
            return Err(IesError::invalid(
                "service.name must have at most 128 characters",
            ));
        }
        let def_id = body
            .service_definition_id
            .as_deref()
            .ok_or_else(|| IesError::invalid("service.service_definition_id is required"))?;
        let def = catalog.iter().find(|d| d.id == def_id).ok_or_else(|| {
            IesError::invalid(format!("service definition {def_id} does not exist"))
        })?;
        let template_id = body
            .template_id
            .as_deref()
            .ok_or_else(|| IesError::invalid("service.template_id is required"))?;
        let template = def.template(template_id).ok_or_else(|| {
            IesError::invalid(format!(
                "template {template_id} does not belong to service definition {def_id}"
            ))
        })?;
        let (list, line) = one_line(body.parameters.as_ref(), &template.topologies)?;
        let vpn_name = line
            .cloud_vpn_name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| IesError::invalid("parameter CloudVpnName is required"))?
            .to_string();
        check_bandwidth(line, template.max_bandwidth)?;
        check_action(line, ParameterAction::Create)?;
        for p in &template.required_parameters {
            if line.get(p).is_none_or(|v| v.trim().is_empty()) {
                return Err(IesError::invalid(format!(
                    "parameter {p} is required by template {template_id}"
                )));
            }
        }
        if let Some(other) = self.by_connection(&vpn_name) {
            return Err(IesError::conflict(format!(
                "CloudVpnName {vpn_name} is used by service {}",
                other.service_id
            )));
        }
        let service_id = new_id();
        let operation_id = new_id();
        let fail = self.take_failure(OpKind::Create);
        self.services.insert(
            service_id.clone(),
            Service {
                service_id: service_id.clone(),
                name: name.to_string(),
                description: body.description.clone().unwrap_or_default(),
                service_definition_id: def_id.to_string(),
                template_id: template_id.to_string(),
                topology: list,
                params: without_action(line),
                status: ServiceStatus::Processing,
                active_status: ActiveStatus::Deactive,
                created: now,
                pending: Some(Pending {
                    op: OpKind::Create,
                    operation_id: operation_id.clone(),
                    due: after(now, delays.create),
                    params: None,
                    description: None,
                    fail,
                }),
                bandwidth_history: Vec::new(),
                last_operation_id: Some(operation_id.clone()),
            },
        );
        Ok(OperationAccepted {
            service_id: Some(service_id),
            operation_id: Some(operation_id),
            location: None,
        })
    }

    /// `GET /servicemanager/v1/services/{id}`.
    pub fn get(&self, id: &str) -> IesResult<&Service> {
        self.services
            .get(id)
            .ok_or_else(|| IesError::service_not_found(id))
    }

    /// `PUT /servicemanager/v1/services/{id}`.
    pub fn update(
        &mut self,
        id: &str,
        req: &ServiceRequest,
        catalog: &[DefinitionConfig],
        delays: &IesDelays,
        now: DateTime<Utc>,
    ) -> IesResult<OperationAccepted> {
        let s = self.get(id)?;
        if let Some(what) = s.operating() {
            return Err(IesError::busy_instance(id, what));
        }
        let body = &req.service;
        let same = |field: &str, given: Option<&String>, have: &str| match given {
            Some(g) if g != have => Err(IesError::invalid(format!(
                "service.{field} cannot be changed (is {have:?}, request has {g:?})"
            ))),
            _ => Ok(()),
        };
        same("name", body.name.as_ref(), &s.name)?;
        same(
            "service_definition_id",
            body.service_definition_id.as_ref(),
            &s.service_definition_id,
        )?;
        same("template_id", body.template_id.as_ref(), &s.template_id)?;
        let max = catalog
            .iter()
            .find(|d| d.id == s.service_definition_id)
            .and_then(|d| d.template(&s.template_id))
            .map_or(i64::MAX, |t| t.max_bandwidth);
        let mut params = s.params.clone();
        if body.parameters.is_some() {
            let (list, line) = one_line(
                body.parameters.as_ref(),
                std::slice::from_ref(&s.topology),
            )
            .map_err(|e| {
                IesError::invalid(format!("{} (this service uses {})", e.message, s.topology))
            })?;
            debug_assert_eq!(list, s.topology);
            match line.cloud_vpn_name() {
                Some(n) if n == s.cloud_vpn_name() => {}
                Some(n) => {
                    return Err(IesError::invalid(format!(
                        "CloudVpnName {n:?} does not name this service's line ({})",
                        s.cloud_vpn_name()
                    )))
                }
                None => return Err(IesError::invalid("parameter CloudVpnName is required")),
            }
            check_action(line, ParameterAction::Update)?;
            if line.get(param::BANDWIDTH).is_some() {
                check_bandwidth(line, max)?;
            }
            // Elements may be partial: omitted parameters keep their values.
            for (k, v) in without_action(line) {
                if k == param::BANDWIDTH {
                    params.insert(k, v);
                } else if params.get(&k) != Some(&v) {
                    return Err(IesError::invalid(format!(
                        "parameter {k} cannot be changed; only Bandwidth can"
                    )));
                }
            }
        }
        let operation_id = new_id();
        let fail = self.take_failure(OpKind::Update);
        let s = self
            .services
            .get_mut(id)
            .ok_or_else(|| IesError::service_not_found(id))?;
        s.status = ServiceStatus::Processing;
        s.last_operation_id = Some(operation_id.clone());
        s.pending = Some(Pending {
            op: OpKind::Update,
            operation_id: operation_id.clone(),
            due: after(now, delays.update),
            params: Some(params),
            description: body.description.clone(),
            fail,
        });
        Ok(OperationAccepted {
            service_id: None,
            operation_id: Some(operation_id),
            location: None,
        })
    }

    /// `DELETE /servicemanager/v1/services/{id}`. A second delete while one runs answers
    /// with the same operation id.
    pub fn delete(
        &mut self,
        id: &str,
        delays: &IesDelays,
        now: DateTime<Utc>,
    ) -> IesResult<OperationAccepted> {
        let s = self.get(id)?;
        match s.pending.as_ref() {
            Some(p) if p.op == OpKind::Delete => {
                return Ok(OperationAccepted {
                    service_id: None,
                    operation_id: Some(p.operation_id.clone()),
                    location: None,
                })
            }
            Some(_) => return Err(IesError::busy_instance(id, s.operating().unwrap_or(""))),
            None => {}
        }
        let operation_id = new_id();
        let fail = self.take_failure(OpKind::Delete);
        let s = self
            .services
            .get_mut(id)
            .ok_or_else(|| IesError::service_not_found(id))?;
        s.status = ServiceStatus::Deleting;
        s.last_operation_id = Some(operation_id.clone());
        s.pending = Some(Pending {
            op: OpKind::Delete,
            operation_id: operation_id.clone(),
            due: after(now, delays.delete),
            params: None,
            description: None,
            fail,
        });
        Ok(OperationAccepted {
            service_id: None,
            operation_id: Some(operation_id),
            location: None,
        })
    }

    /// Admin drift: changes stored values directly (a bandwidth change takes effect now).
    pub fn patch(&mut self, id: &str, patch: &ServicePatch, now: DateTime<Utc>) -> IesResult<()> {
        let s = self
            .services
            .get_mut(id)
            .ok_or_else(|| IesError::service_not_found(id))?;
        if let Some(st) = &patch.status {
            s.status = ServiceStatus::parse(st);
        }
        if let Some(a) = &patch.active_status {
            s.active_status = ActiveStatus::parse(a);
        }
        if let Some(d) = &patch.description {
            s.description = d.clone();
        }
        let before = s.bandwidth();
        for (k, v) in &patch.parameters {
            match v {
                Some(v) => s.params.insert(k.clone(), v.clone()),
                None => s.params.remove(k),
            };
        }
        let bw = s.bandwidth();
        if bw != before && !s.bandwidth_history.is_empty() {
            s.bandwidth_history.push((now, bw));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
