//! The verdict of each `doctor` check: pure functions of what a probe found (the probes, which
//! make the calls, are in [`super::probe`] and [`super::cluster`]). Each verdict is PASS, WARN or
//! FAIL with one line saying what was found and, unless it passed, one line saying what to do.
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cloud::model::gateway::ListAvailabilityZonesResponse;
use crate::cloud::model::quota::Quotas;
use crate::cloud::CloudError;

/// The API refuses requests signed more than this far from its clock.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// A skew past this is worth a warning (it will grow).
pub const WARN_SKEW: Duration = Duration::from_secs(60);

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One check's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `cloud` or `cluster`.
    pub group: &'static str,
    /// e.g. `endpoint`, `credentials`.
    pub name: &'static str,
    pub status: Status,
    /// What was found.
    pub message: String,
    /// What to do (WARN and FAIL).
    pub fix: Option<String>,
}

impl Check {
    fn new(group: &'static str, name: &'static str, status: Status, message: String) -> Self {
        Self {
            group,
            name,
            status,
            message,
            fix: None,
        }
    }
    pub fn pass(group: &'static str, name: &'static str, message: impl Into<String>) -> Self {
        Self::new(group, name, Status::Pass, message.into())
    }
    pub fn warn(group: &'static str, name: &'static str, message: impl Into<String>) -> Self {
        Self::new(group, name, Status::Warn, message.into())
    }
    pub fn fail(group: &'static str, name: &'static str, message: impl Into<String>) -> Self {
        Self::new(group, name, Status::Fail, message.into())
    }
    /// With what to do.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// What an unsigned request to an endpoint found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// An HTTP answer (any status), with its `Date` header.
    Answered {
        status: u16,
        date: Option<DateTime<Utc>>,
    },
    /// The host name does not resolve.
    Dns(String),
    /// Nothing accepts connections there (refused, unreachable, timed out connecting).
    Connect(String),
    /// A connection, but no TLS session (a plain-HTTP server, an intercepting proxy, an
    /// untrusted certificate).
    Tls(String),
    /// Connected, but no answer in time.
    Timeout,
}

/// The endpoint check: it resolves, accepts connections, speaks TLS and answers HTTP.
pub fn endpoint(group: &'static str, url: &str, r: &Reach) -> Check {
    let name = "endpoint";
    match r {
        Reach::Answered { status, .. } => Check::pass(group, name, format!("{url} answered (HTTP {status})")),
        Reach::Dns(e) => Check::fail(group, name, format!("cannot resolve the host of {url}: {e}"))
            .fix("check --region / --endpoint for typos, and this machine's DNS (or proxy) settings"),
        Reach::Connect(e) => Check::fail(group, name, format!("{url} is unreachable: {e}"))
            .fix("check the endpoint's host and port, and that a firewall or egress policy lets this machine (or pod) reach it"),
        Reach::Tls(e) => Check::fail(group, name, format!("TLS with {url} failed: {e}"))
            .fix("check the URL's scheme (an http:// server cannot be reached with https://), or, behind a TLS-intercepting proxy, trust its CA"),
        Reach::Timeout => Check::fail(group, name, format!("{url} accepted the connection but did not answer"))
            .fix("check for a proxy or firewall holding the connection; try again later"),
    }
}

/// How `skew` (the server's clock minus this machine's) reads.
fn skew_text(skew: chrono::Duration) -> String {
    // `Date` has whole seconds: round rather than truncate.
    let ms = skew.num_milliseconds();
    let secs = (ms + 500 * ms.signum()) / 1000;
    let (m, s) = (secs.abs() / 60, secs.abs() % 60);
    let side = if secs > 0 { "behind" } else { "ahead of" };
    format!("this machine's clock is {m}m{s:02}s {side} the server's")
}

/// The clock check: the server's `Date` against this machine's clock at `now`.
pub fn clock(r: &Reach, now: DateTime<Utc>) -> Check {
    let name = "clock";
    let Reach::Answered { date, .. } = r else {
        return Check::warn("cloud", name, "not checked: the endpoint did not answer")
            .fix("fix the endpoint first");
    };
    let Some(date) = date else {
        return Check::warn(
            "cloud",
            name,
            "the endpoint sent no Date header: the skew is unknown",
        )
        .fix("make sure this machine's clock is synchronised (NTP)");
    };
    let skew = *date - now;
    let abs = ((skew.num_milliseconds().abs() + 500) / 1000).unsigned_abs();
    if abs > MAX_SKEW.as_secs() {
        Check::fail(
            "cloud",
            name,
            format!(
                "{}: the API refuses requests signed more than 15 minutes off",
                skew_text(skew)
            ),
        )
        .fix("synchronise this machine's clock (NTP, chrony, `timedatectl set-ntp true`)")
    } else if abs > WARN_SKEW.as_secs() {
        Check::warn(
            "cloud",
            name,
            format!("{} (the API accepts up to 15 minutes)", skew_text(skew)),
        )
        .fix("synchronise this machine's clock (NTP) before it drifts further")
    } else {
        Check::pass(
            "cloud",
            name,
            format!("within {abs}s of the server's clock"),
        )
    }
}

/// Which credentials were sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// AK/SK signing with this access key (an id, not a secret).
    AkSk(String),
    /// An IAM token.
    Token,
}

/// The credentials and project checks from a signed read of project `project`: the request
/// signature (or token) accepted, and the project being the credentials'. `secret`: the Secret
/// the keys came from when not the operator's own (a namespace's account Secret).
pub fn credentials(
    sent: &Sent,
    project: &str,
    region: &str,
    result: &Result<(), CloudError>,
    secret: Option<&str>,
) -> [Check; 2] {
    let keys_in = |env: &str| match secret {
        Some(s) => format!("Secret {s}"),
        None => format!("the credentials Secret (or {env})"),
    };
    let (c, p) = ("credentials", "project");
    let how = match sent {
        Sent::AkSk(ak) => format!("the request signature of access key {ak}"),
        Sent::Token => "the IAM token".to_string(),
    };
    let project_ok = || {
        Check::pass(
            "cloud",
            p,
            format!("project {project} belongs to these credentials"),
        )
    };
    let e = match result {
        Ok(()) => {
            return [
                Check::pass("cloud", c, format!("{how} was accepted")),
                project_ok(),
            ]
        }
        Err(e) => e,
    };
    let not_checked = || {
        Check::warn("cloud", p, "not checked: the credentials were refused")
            .fix("fix the credentials first")
    };
    let msg = e.message.as_str();
    let status = e.http_status.unwrap_or_default();
    let cred = match (status, sent) {
        (401, Sent::AkSk(ak)) if msg.contains("ak not exist") => Check::fail("cloud", c, format!("IAM does not know access key {ak}: {msg}"))
            .fix(format!("check accessKey in {}: it may be mistyped, deleted, or from another account", keys_in("HUAWEICLOUD_SDK_AK"))),
        (401, Sent::AkSk(_)) if msg.contains("signature expired") => Check::fail("cloud", c, format!("the request signature was refused as expired: this machine's clock is more than 15 minutes off the cloud's ({msg})"))
            .fix("synchronise this machine's clock (NTP)"),
        (401, Sent::AkSk(ak)) if msg.contains("signature fail") => Check::fail("cloud", c, format!("the request signature was refused: the secret key is not the one of access key {ak} ({msg})"))
            .fix(format!("check secretKey in {}: copy it whole, without spaces or line breaks", keys_in("HUAWEICLOUD_SDK_SK"))),
        (401, Sent::Token) => Check::fail("cloud", c, format!("the IAM token was refused (expired or invalid): {msg}"))
            .fix("issue a new token (they last 24 hours) or use AK/SK"),
        (401, _) => Check::fail("cloud", c, format!("authentication failed: {msg}"))
            .fix("check the credentials"),
        (403, _) => {
            return [
                Check::pass("cloud", c, format!("{how} was accepted")),
                Check::fail("cloud", p, format!("the credentials are valid, but project {project} is not theirs (another account's project, or another region's): {msg}"))
                    .fix(format!("use the project id of region {region} in this account (console: My Credentials > API Credentials), or credentials of the project's account")),
            ]
        }
        _ if matches!(e.kind, crate::cloud::ErrorKind::Transport | crate::cloud::ErrorKind::Timeout) => Check::warn("cloud", c, format!("not checked: {e}"))
            .fix("fix the endpoint first"),
        _ => Check::warn("cloud", c, format!("the check call failed: {e}"))
            .fix("look at the message; try again later if the cloud is busy"),
    };
    [cred, not_checked()]
}

/// The quotas check: used / limit per kind; full is a failure (creates would be refused),
/// nearly full a warning.
pub fn quotas(q: &Quotas) -> Check {
    let mut worst = Status::Pass;
    let mut parts = Vec::new();
    for r in &q.resources {
        let (Some(used), Some(limit)) = (r.used, r.quota) else {
            continue;
        };
        let status = if used >= limit {
            Status::Fail
        } else if used * 10 >= limit * 9 {
            Status::Warn
        } else {
            Status::Pass
        };
        worst = worst.max(status);
        parts.push(format!("{} {used}/{limit}", r.quota_type));
    }
    let message = match parts.is_empty() {
        true => "the cloud reported no quota".to_string(),
        false => parts.join(", "),
    };
    let check = Check::new("cloud", "quotas", worst, message);
    match worst {
        Status::Pass => check,
        _ => {
            check.fix("delete unused resources, or ask for a higher quota in the console (Quotas)")
        }
    }
}

/// The availability-zone check: which flavors are offered where.
pub fn zones(z: &ListAvailabilityZonesResponse) -> Check {
    let offered: Vec<String> = z
        .availability_zones
        .iter()
        .filter_map(|(flavor, azs)| {
            let mut all: Vec<String> = azs
                .vpc
                .iter()
                .chain(azs.er.iter())
                .flatten()
                .cloned()
                .collect();
            all.sort();
            all.dedup();
            (!all.is_empty()).then(|| format!("{flavor} in {}", all.join(" ")))
        })
        .collect();
    match offered.is_empty() {
        true => Check::warn(
            "cloud",
            "zones",
            "no gateway flavor is offered in any availability zone",
        )
        .fix("gateways cannot be created in this region now; pick another region or ask support"),
        false => Check::pass("cloud", "zones", offered.join("; ")),
    }
}

/// How many resources of one kind the project holds and how many this cluster owns, or why
/// they could not be listed.
pub type Counted = (&'static str, Result<(usize, usize), String>);

/// The resources check: how many of each kind the project holds and how many carry this
/// cluster's owner tags.
pub fn resources(cluster: &str, counts: &[Counted]) -> Check {
    let mut failed = Vec::new();
    let mut parts = Vec::new();
    for (kind, r) in counts {
        match r {
            Ok((all, ours)) => parts.push(format!("{kind} {all} ({ours} of cluster {cluster})")),
            Err(e) => failed.push(format!("{kind}: {e}")),
        }
    }
    match failed.is_empty() {
        true => Check::pass("cloud", "resources", parts.join(", ")),
        false => Check::fail("cloud", "resources", format!("listing failed: {}", failed.join("; ")))
            .fix("the credentials need read access to VPN resources (IAM policy VPN ReadOnlyAccess or more)"),
    }
}

/// The IES check: the service catalog read with the configured token.
pub fn ies(url: &str, result: &Result<usize, CloudError>) -> Check {
    match result {
        Ok(n) => Check::pass(
            "cloud",
            "ies",
            format!("{url}: token accepted, {n} service definitions"),
        ),
        Err(e) if e.http_status == Some(401) || e.http_status == Some(403) => Check::fail(
            "cloud",
            "ies",
            format!("{url} refused the token: {}", e.message),
        )
        .fix("check authToken / bearerToken in the credentials Secret"),
        Err(e) => Check::fail("cloud", "ies", format!("{url}: {e}"))
            .fix("check --ies-endpoint (it ends in /rest) and that this machine reaches it"),
    }
}

/// The state of one CRD in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrdState {
    Same,
    Missing,
    /// Installed, but not what this binary generates.
    Differs,
    Unreadable(String),
}

/// The CRD check.
pub fn crds(states: &[(String, CrdState)]) -> Check {
    let of = |want: fn(&CrdState) -> bool| -> Vec<&str> {
        states
            .iter()
            .filter(|(_, s)| want(s))
            .map(|(n, _)| n.as_str())
            .collect()
    };
    let (missing, differs) = (
        of(|s| *s == CrdState::Missing),
        of(|s| *s == CrdState::Differs),
    );
    let unreadable: Vec<String> = states
        .iter()
        .filter_map(|(n, s)| match s {
            CrdState::Unreadable(e) => Some(format!("{n}: {e}")),
            _ => None,
        })
        .collect();
    let apply = "kubectl apply --server-side -f crds/ (or: vpn-operator crd | kubectl apply --server-side -f -)";
    if !missing.is_empty() {
        return Check::fail(
            "cluster",
            "crds",
            format!("not installed: {}", missing.join(", ")),
        )
        .fix(apply);
    }
    if !differs.is_empty() {
        return Check::fail(
            "cluster",
            "crds",
            format!(
                "installed but not equal to this binary's `vpn-operator crd`: {}",
                differs.join(", ")
            ),
        )
        .fix(format!(
            "an older or newer version is installed; with this version: {apply}"
        ));
    }
    if !unreadable.is_empty() {
        return Check::warn(
            "cluster",
            "crds",
            format!("unknown: {}", unreadable.join("; ")),
        )
        .fix("run doctor with permission to get customresourcedefinitions");
    }
    Check::pass(
        "cluster",
        "crds",
        format!("{} installed, equal to this binary's", states.len()),
    )
}

/// The RBAC check: each permission the operator needs, allowed (`Some(true)`), denied, or not
/// answered (`None`).
pub fn rbac(who: &str, answers: &[(String, Option<bool>)]) -> Check {
    let denied: Vec<&str> = answers
        .iter()
        .filter(|(_, a)| *a == Some(false))
        .map(|(p, _)| p.as_str())
        .collect();
    let unknown = answers.iter().filter(|(_, a)| a.is_none()).count();
    if !denied.is_empty() {
        return Check::fail("cluster", "rbac", format!("{who} may not: {}", denied.join(", ")))
            .fix("install the operator's RBAC (deploy/rbac.yaml, or the Helm chart) and run as its ServiceAccount");
    }
    if unknown > 0 {
        return Check::warn("cluster", "rbac", format!("unknown for {unknown} of {} permissions: the API did not answer SelfSubjectAccessReview", answers.len()))
            .fix("check the permissions on a cluster that serves authorization.k8s.io/v1");
    }
    Check::pass(
        "cluster",
        "rbac",
        format!(
            "{who} has all {} permissions the operator uses",
            answers.len()
        ),
    )
}

pub mod accounts;

#[cfg(test)]
mod tests;
