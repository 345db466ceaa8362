//! Call counters per operation: calls, answers by HTTP status, faults injected; and calls per
//! project and operation (an operator serving many accounts is judged per account).
//! Read and reset through the admin API (`GET`/`DELETE /_sim/counters`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The counters of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounters {
    /// Calls that reached the operation (authenticated or not).
    pub calls: u64,
    /// Answers by HTTP status code (as text, e.g. `"201"`); a dropped connection counts as `"dropped"`.
    pub by_status: BTreeMap<String, u64>,
    /// Faults injected, by fault name.
    pub faults: BTreeMap<String, u64>,
}

/// All counters, by operation name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Totals over every project.
    pub operations: BTreeMap<String, OpCounters>,
    /// Calls by project id (from the request path), then by operation; calls without a
    /// project in their path (the IAM token API) are only in the totals.
    #[serde(default)]
    pub by_project: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Counters {
    pub fn call(&mut self, op: &str) {
        self.operations.entry(op.to_string()).or_default().calls += 1;
    }

    /// A call of `op` in `project`; counted in the totals too (as [`call`](Self::call)).
    pub fn project_call(&mut self, project: &str, op: &str) {
        self.call(op);
        if !project.is_empty() {
            *self
                .by_project
                .entry(project.to_string())
                .or_default()
                .entry(op.to_string())
                .or_default() += 1;
        }
    }

    pub fn status(&mut self, op: &str, status: &str) {
        *self
            .operations
            .entry(op.to_string())
            .or_default()
            .by_status
            .entry(status.to_string())
            .or_default() += 1;
    }

    pub fn fault(&mut self, op: &str, fault: &str) {
        *self
            .operations
            .entry(op.to_string())
            .or_default()
            .faults
            .entry(fault.to_string())
            .or_default() += 1;
    }

    /// Calls of one operation so far.
    pub fn calls(&self, op: &str) -> u64 {
        self.operations.get(op).map_or(0, |c| c.calls)
    }

    /// Calls of one operation in one project so far.
    pub fn project_calls(&self, project: &str, op: &str) -> u64 {
        self.by_project
            .get(project)
            .and_then(|ops| ops.get(op))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_per_project_and_in_the_totals() {
        let mut c = Counters::default();
        c.project_call("p1", "ListVgws");
        c.project_call("p1", "ListVgws");
        c.project_call("p2", "ListVgws");
        c.project_call("", "KeystoneCreateUserTokenByPassword");
        assert_eq!(c.calls("ListVgws"), 3);
        assert_eq!(c.project_calls("p1", "ListVgws"), 2);
        assert_eq!(c.project_calls("p2", "ListVgws"), 1);
        assert_eq!(c.calls("KeystoneCreateUserTokenByPassword"), 1);
        assert_eq!(
            c.by_project.len(),
            2,
            "no entry for calls without a project"
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["by_project"]["p1"]["ListVgws"], 2);
        assert_eq!(v["operations"]["ListVgws"]["calls"], 3);
    }
}
