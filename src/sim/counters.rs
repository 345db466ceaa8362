//! Call counters per operation: calls, answers by HTTP status, faults injected.
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
    pub operations: BTreeMap<String, OpCounters>,
}

impl Counters {
    pub fn call(&mut self, op: &str) {
        self.operations.entry(op.to_string()).or_default().calls += 1;
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
}
