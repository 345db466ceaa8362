//! The quota check before a create, the same for every VPN kind: `observe` reads the quota of
//! the kind's resource (`GET .../vpn/quotas`, through the per-account cache of
//! [`crate::cloud::listcache`]: at most a minute old, one call per account and minute), and
//! `plan` refuses the create when it is full ([`check`], pure), with "used N of M" in the
//! message and no create call.
use crate::cloud::model::quota::{QuotaInfo, QuotaType};
use crate::cloud::{CloudError, VpnClient};

use super::error::{Error, Result};

/// The quota of `quota_type` for the check before a create, `None` when it cannot be known (the
/// API does not report the type, or reading it is not allowed: see [`best_effort`]).
pub async fn read(cloud: &VpnClient, quota_type: &QuotaType) -> Result<Option<QuotaInfo>> {
    Ok(best_effort("the quotas", cloud.quota(quota_type).await)?.flatten())
}

/// A read that only adds information (the quota check, a routing table): a failure that waiting
/// may cure fails the reconcile as any read does; one that it will not (no permission for the
/// API, an API the endpoint does not serve) leaves the information out, with a warning in the
/// log, instead of stopping the object's reconciles for good.
pub fn best_effort<T>(what: &str, r: std::result::Result<T, CloudError>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_retryable() => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "could not read {what}; going on without them");
            Ok(None)
        }
    }
}

/// Refuses a create of one more `what` (e.g. "VPN gateways") when `quota` is full.
pub fn check(quota: Option<&QuotaInfo>, what: &str) -> Result<()> {
    let Some(q) = quota else {
        return Ok(());
    };
    match (q.quota, q.used) {
        (Some(limit), Some(used)) if used >= limit => Err(Error::QuotaExceeded(format!(
            "the project's {} quota is full: used {used} of {limit}, so no create was \
             attempted. Delete unused {what} or ask for a larger quota; the operator checks again \
             slowly",
            q.quota_type
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::ErrorKind;

    fn q(quota: Option<i64>, used: Option<i64>) -> QuotaInfo {
        QuotaInfo {
            quota_type: QuotaType::VpnGateway,
            quota,
            used,
        }
    }

    #[test]
    fn a_full_quota_refuses_the_create_and_says_how_full() {
        let table = [
            (None, true),
            (Some(q(Some(50), Some(49))), true),
            (Some(q(Some(50), Some(50))), false),
            (Some(q(Some(50), Some(51))), false),
            (Some(q(Some(0), Some(0))), false),
            // Not reported: no check.
            (Some(q(None, Some(5))), true),
            (Some(q(Some(5), None)), true),
        ];
        for (quota, allowed) in table {
            let got = check(quota.as_ref(), "VPN gateways");
            assert_eq!(got.is_ok(), allowed, "{quota:?}");
            if let Err(e) = got {
                assert_eq!(e.reason(), "QuotaExceeded");
                assert!(e.is_terminal());
                let (limit, used) = (quota.as_ref().unwrap().quota, quota.unwrap().used);
                let want = format!("used {} of {}", used.unwrap(), limit.unwrap());
                assert!(e.to_string().contains(&want), "{e}");
                assert!(e.to_string().contains("vpn_gateway quota"), "{e}");
            }
        }
    }

    #[test]
    fn best_effort_reads_fail_only_on_what_waiting_cures() {
        let err = |k| CloudError::new(k, "ShowQuotasInfo", "x");
        assert_eq!(best_effort("q", Ok::<_, CloudError>(1)).unwrap(), Some(1));
        assert!(best_effort::<()>("q", Err(err(ErrorKind::Throttled))).is_err());
        assert!(best_effort::<()>("q", Err(err(ErrorKind::ServerError))).is_err());
        assert_eq!(
            best_effort::<()>("q", Err(err(ErrorKind::AuthFailed))).unwrap(),
            None
        );
        assert_eq!(
            best_effort::<()>("q", Err(err(ErrorKind::InvalidRequest))).unwrap(),
            None
        );
    }
}
