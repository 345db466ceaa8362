//! Gateway upgrade jobs: `POST .../upgrade` (start / finish / rollback), list and delete.
//!
//! The flow is inferred from the status enums (gateways reference §4.13): `start` puts the
//! gateway in `UPGRADING` and creates an `upgrade` job (`upgrading`); after the upgrade delay
//! both reach `PENDING_UPGRADE_CONFIRM` / `pending_upgrade_confirm`; `finish` makes the job
//! `success` and the gateway `ACTIVE`; `rollback` makes them `rolling_back` / `ROLLING_BACK`, and
//! after the upgrade delay `rollback_success` / `ACTIVE`. Job records stay until deleted.
use chrono::{DateTime, Utc};

use super::gateways::self_gate;
use super::{new_id, ts, Ctx, Next, Pending, Project};
use crate::cloud::model as m;
use crate::sim::errors::{ApiError, ApiResult};

/// A stored job.
#[derive(Debug, Clone)]
pub struct JobRec {
    pub job: m::Job,
    pub created: DateTime<Utc>,
}

fn sub_jobs(now: DateTime<Utc>, status: m::SubJobStatus, finished: bool) -> Vec<m::SubJob> {
    [
        m::SubJobType::PrepareResource,
        m::SubJobType::UpgradeWorker1,
        m::SubJobType::UpgradeWorker2,
    ]
    .into_iter()
    .map(|t| m::SubJob {
        id: new_id(),
        job_type: Some(t),
        status: Some(status.clone()),
        created_at: Some(ts(now)),
        finished_at: finished.then(|| ts(now)),
        error_message: Some(String::new()),
    })
    .collect()
}

impl Project {
    /// The gateway's job in one of `states`, newest first.
    fn gateway_job_mut(&mut self, gw: &str, states: &[m::JobStatus]) -> Option<&mut JobRec> {
        self.jobs
            .values_mut()
            .filter(|j| j.job.resource_id.as_deref() == Some(gw))
            .filter(|j| j.job.status.as_ref().is_some_and(|s| states.contains(s)))
            .max_by_key(|j| j.created)
    }

    /// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/upgrade`; returns the job id.
    pub fn upgrade_gateway(
        &mut self,
        id: &str,
        action: m::UpgradeAction,
        ctx: Ctx,
    ) -> ApiResult<String> {
        use m::GatewayStatus as S;
        crate::sim::validate::known("action", &action)?;
        let g = self
            .gateways
            .get(id)
            .ok_or_else(ApiError::gateway_not_found)?;
        let status = g.gw.status.clone().unwrap_or(S::Active);
        match action {
            m::UpgradeAction::Start => {
                self_gate(g, false)?;
                let job_id = new_id();
                let created = self.creation_time(ctx.now);
                let mut subs = sub_jobs(ctx.now, m::SubJobStatus::Init, false);
                subs[0].status = Some(m::SubJobStatus::Upgrading);
                self.jobs.insert(
                    job_id.clone(),
                    JobRec {
                        job: m::Job {
                            id: job_id.clone(),
                            resource_id: Some(id.to_string()),
                            job_type: Some(m::JobType::Upgrade),
                            status: Some(m::JobStatus::Upgrading),
                            created_at: Some(ts(created)),
                            finished_at: None,
                            error_message: Some(String::new()),
                            sub_jobs: Some(subs),
                        },
                        created,
                    },
                );
                let g = self.gateways.get_mut(id).expect("checked above");
                g.gw.status = Some(S::Upgrading);
                g.pending = Some(Pending::after(
                    ctx.now,
                    ctx.delays.gateway_upgrade,
                    Next::UpgradeReady,
                ));
                Ok(job_id)
            }
            m::UpgradeAction::Finish | m::UpgradeAction::Rollback => {
                match status {
                    S::PendingUpgradeConfirm => {}
                    S::Upgrading | S::RollingBack => return Err(ApiError::gateway_not_ready()),
                    S::PendingCreate => return Err(ApiError::not_ready("GATEWAY", id, "CREATING")),
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "vpn gateway {id} has no upgrade waiting for confirmation (status {})",
                            status.as_str()
                        )))
                    }
                }
                let rollback = action == m::UpgradeAction::Rollback;
                let job = self
                    .gateway_job_mut(id, &[m::JobStatus::PendingUpgradeConfirm])
                    .ok_or_else(|| {
                        ApiError::server_error("the upgrade job of this gateway is missing")
                    })?;
                let job_id = job.job.id.clone();
                if rollback {
                    job.job.status = Some(m::JobStatus::RollingBack);
                } else {
                    job.job.status = Some(m::JobStatus::Success);
                    job.job.finished_at = Some(ts(ctx.now));
                }
                let g = self.gateways.get_mut(id).expect("checked above");
                if rollback {
                    g.gw.status = Some(S::RollingBack);
                    g.pending = Some(Pending::after(
                        ctx.now,
                        ctx.delays.gateway_upgrade,
                        Next::RollbackDone,
                    ));
                } else {
                    g.gw.status = Some(S::Active);
                    g.updated = ctx.now;
                    g.pending = None;
                }
                Ok(job_id)
            }
            m::UpgradeAction::Other(_) => unreachable!("checked by known()"),
        }
    }

    /// Keeps the gateway's job in step with a state forced through the admin API (an upgrade
    /// started, confirmed or rolled back "in the console"): `UPGRADING`,
    /// `PENDING_UPGRADE_CONFIRM` and `ROLLING_BACK` need a running job (one is made when there
    /// is none); any other state ends a running job (`success`, `rollback_success` after a
    /// rollback, `fail` for `FAULT`).
    pub fn align_upgrade_job(&mut self, gw: &str, state: &m::GatewayStatus, now: DateTime<Utc>) {
        use m::{GatewayStatus as G, JobStatus as J};
        let running = [J::Upgrading, J::PendingUpgradeConfirm, J::RollingBack];
        let wanted = match state {
            G::Upgrading => Some(J::Upgrading),
            G::PendingUpgradeConfirm => Some(J::PendingUpgradeConfirm),
            G::RollingBack => Some(J::RollingBack),
            _ => None,
        };
        let exists = self.gateway_job_mut(gw, &running).is_some();
        if let (Some(w), false) = (&wanted, exists) {
            let created = self.creation_time(now);
            let id = new_id();
            let job = m::Job {
                id: id.clone(),
                resource_id: Some(gw.to_string()),
                job_type: Some(m::JobType::Upgrade),
                status: Some(w.clone()),
                created_at: Some(ts(created)),
                finished_at: None,
                error_message: Some(String::new()),
                sub_jobs: Some(sub_jobs(now, m::SubJobStatus::Success, true)),
            };
            self.jobs.insert(id, JobRec { job, created });
        }
        let Some(j) = self.gateway_job_mut(gw, &running) else {
            return;
        };
        match wanted {
            Some(w) => j.job.status = Some(w),
            None => {
                let was = j.job.status.clone();
                j.job.status = Some(match state {
                    G::Fault => J::Fail,
                    _ if was == Some(J::RollingBack) => J::RollbackSuccess,
                    _ => J::Success,
                });
                j.job.finished_at = Some(ts(now));
            }
        }
    }

    pub(super) fn job_upgrade_ready(&mut self, gw: &str, due: DateTime<Utc>) {
        if let Some(j) = self.gateway_job_mut(gw, &[m::JobStatus::Upgrading]) {
            j.job.status = Some(m::JobStatus::PendingUpgradeConfirm);
            j.job.sub_jobs = Some(sub_jobs(due, m::SubJobStatus::Success, true));
        }
    }

    pub(super) fn job_rollback_done(&mut self, gw: &str, due: DateTime<Utc>) {
        if let Some(j) = self.gateway_job_mut(gw, &[m::JobStatus::RollingBack]) {
            j.job.status = Some(m::JobStatus::RollbackSuccess);
            j.job.finished_at = Some(ts(due));
        }
    }

    /// `GET /v5/{project_id}/vpn-gateways/jobs[?resource_id=]`, newest first.
    pub fn list_jobs(&self, resource_id: Option<&str>) -> Vec<m::Job> {
        let mut jobs: Vec<&JobRec> = self
            .jobs
            .values()
            .filter(|j| resource_id.is_none_or(|r| j.job.resource_id.as_deref() == Some(r)))
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created));
        jobs.into_iter().map(|j| j.job.clone()).collect()
    }

    /// `DELETE /v5/{project_id}/vpn-gateways/jobs/{job_id}`. Running jobs are refused with
    /// VPN.0001 (assumption: the reference states no precondition; it recommends deleting only
    /// finished jobs).
    pub fn delete_job(&mut self, id: &str) -> ApiResult<()> {
        let j = self.jobs.get(id).ok_or_else(ApiError::not_found)?;
        let status = j.job.status.clone().unwrap_or(m::JobStatus::Success);
        if !status.is_terminal() {
            return Err(ApiError::invalid(format!(
                "job {id} is still running (status {}); delete it once it is success, rollback_success or fail",
                status.as_str()
            )));
        }
        self.jobs.remove(id);
        Ok(())
    }
}
