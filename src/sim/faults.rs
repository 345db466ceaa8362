//! Fault injection: throttling, busy and server errors, latency, timeouts, and "commit then lose
//! the response", chosen by a seeded random draw or scripted for the next N calls, and
//! filtered by operation name (and project).
//!
//! Rules are evaluated in order for every authenticated API call; the first rule that matches
//! the call and fires decides. A probability rule draws from one seeded RNG, so a given seed
//! and call sequence always injects the same faults.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// 429 `APIGW.0308` with `Retry-After`.
    Throttle {
        #[serde(default = "one")]
        retry_after_secs: u64,
    },
    /// 500 `VPN.0002`.
    ServerError,
    /// 400 `VPN.0030` "The system is busy".
    Busy,
    /// The call succeeds after `ms` milliseconds.
    Latency { ms: u64 },
    /// The request is held for `ms` milliseconds (longer than the client waits), then carried
    /// out: a client that gave up does not know whether it was applied.
    Timeout { ms: u64 },
    /// The call is carried out, then the connection is closed without a response.
    DropResponse,
    /// The call is carried out, then a 504 without a body is returned.
    #[serde(rename = "commit_then_504")]
    CommitThen504,
}

fn one() -> u64 {
    1
}

impl FaultKind {
    /// A short name for counters and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Throttle { .. } => "throttle",
            Self::ServerError => "server_error",
            Self::Busy => "busy",
            Self::Latency { .. } => "latency",
            Self::Timeout { .. } => "timeout",
            Self::DropResponse => "drop_response",
            Self::CommitThen504 => "commit_then_504",
        }
    }
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// On each matching call with this probability (0..=1), from the seeded RNG.
    Probability(f64),
    /// On the next N matching calls, then the rule is spent.
    Next(u32),
    /// On every matching call.
    Always,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Operation names this rule applies to (e.g. `CreateVpnGateway`); empty = all.
    #[serde(default)]
    pub ops: Vec<String>,
    /// Project this rule applies to; `None` = all.
    #[serde(default)]
    pub project: Option<String>,
    pub fault: FaultKind,
    pub trigger: Trigger,
}

impl FaultRule {
    /// A rule for every operation.
    pub fn new(fault: FaultKind, trigger: Trigger) -> Self {
        Self {
            ops: Vec::new(),
            project: None,
            fault,
            trigger,
        }
    }

    /// Restricts the rule to one operation (may be called repeatedly).
    pub fn for_op(mut self, op: &str) -> Self {
        self.ops.push(op.to_string());
        self
    }

    fn matches(&self, op: &str, project: &str) -> bool {
        (self.ops.is_empty() || self.ops.iter().any(|o| o == op))
            && self.project.as_deref().is_none_or(|p| p == project)
    }

    fn spent(&self) -> bool {
        matches!(self.trigger, Trigger::Next(0))
    }

    /// Checks the values a user typed.
    pub fn check(&self) -> Result<(), String> {
        if let Trigger::Probability(p) = self.trigger {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability {p} must be between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// The initial fault setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the RNG behind probability rules.
    pub seed: u64,
    pub rules: Vec<FaultRule>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            rules: Vec::new(),
        }
    }
}

/// The live fault state: rules plus the seeded RNG.
pub struct FaultEngine {
    seed: u64,
    rules: Vec<FaultRule>,
    rng: StdRng,
}

impl FaultEngine {
    pub fn new(cfg: &FaultConfig) -> Self {
        Self {
            seed: cfg.seed,
            rules: cfg.rules.clone(),
            rng: StdRng::seed_from_u64(cfg.seed),
        }
    }

    /// The fault for this call, if any (and uses up scripted triggers).
    pub fn decide(&mut self, op: &str, project: &str) -> Option<FaultKind> {
        for rule in &mut self.rules {
            if rule.spent() || !rule.matches(op, project) {
                continue;
            }
            let fire = match &mut rule.trigger {
                Trigger::Always => true,
                Trigger::Next(n) => {
                    *n -= 1;
                    true
                }
                Trigger::Probability(p) => self.rng.random_bool(p.clamp(0.0, 1.0)),
            };
            if fire {
                return Some(rule.fault);
            }
        }
        self.rules.retain(|r| !r.spent());
        None
    }

    /// Adds a rule at the end.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Replaces the setup (and re-seeds).
    pub fn reset(&mut self, cfg: &FaultConfig) {
        *self = Self::new(cfg);
    }

    /// The rules still active.
    pub fn snapshot(&self) -> FaultConfig {
        FaultConfig {
            seed: self.seed,
            rules: self.rules.iter().filter(|r| !r.spent()).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_rules_fire_exactly_n_times_for_their_operation() {
        let mut e = FaultEngine::new(&FaultConfig {
            seed: 1,
            rules: vec![
                FaultRule::new(FaultKind::Busy, Trigger::Next(2)).for_op("CreateVpnGateway")
            ],
        });
        assert_eq!(e.decide("ShowVpnGateway", "p"), None);
        assert_eq!(e.decide("CreateVpnGateway", "p"), Some(FaultKind::Busy));
        assert_eq!(e.decide("CreateVpnGateway", "p"), Some(FaultKind::Busy));
        assert_eq!(e.decide("CreateVpnGateway", "p"), None);
        assert!(e.snapshot().rules.is_empty());
    }

    #[test]
    fn probability_rules_are_deterministic_per_seed() {
        let cfg = FaultConfig {
            seed: 42,
            rules: vec![FaultRule::new(
                FaultKind::ServerError,
                Trigger::Probability(0.5),
            )],
        };
        let run = || {
            let mut e = FaultEngine::new(&cfg);
            (0..64)
                .map(|_| e.decide("ListVpnGateways", "p").is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let fired = a.iter().filter(|f| **f).count();
        assert!((10..54).contains(&fired), "fired {fired} of 64");
    }

    #[test]
    fn project_filter_and_rule_json() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"ops":["DeleteVpnGateway"],"project":"p2","fault":{"kind":"throttle","retry_after_secs":3},"trigger":{"next":1}}"#,
        )
        .unwrap();
        let mut e = FaultEngine::new(&FaultConfig {
            seed: 1,
            rules: vec![rule],
        });
        assert_eq!(e.decide("DeleteVpnGateway", "p1"), None);
        assert_eq!(
            e.decide("DeleteVpnGateway", "p2"),
            Some(FaultKind::Throttle {
                retry_after_secs: 3
            })
        );
        assert!(FaultRule::new(FaultKind::Busy, Trigger::Probability(1.5))
            .check()
            .is_err());
    }
}
