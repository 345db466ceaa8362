//! The world a project lives in: the VPCs, subnets, EIPs, enterprise routers, AZs, flavors and
//! quotas that VPN resources refer to but that the VPN API does not create.
//!
//! # The default world
//!
//! Every project starts with this world unless a world file (`--world FILE`, YAML or JSON) or the
//! admin API (`PUT /_sim/projects/{project_id}/world`) says otherwise. The ids are fixed, so
//! examples and manifests can use them (they are the same in every project):
//!
//! | Kind | Id | Details |
//! |---|---|---|
//! | VPC `vpc-default` | `a0000000-0000-4000-8000-000000000001` | `192.168.0.0/16` |
//! | subnet `subnet-default-a` | `b0000000-0000-4000-8000-000000000001` | `192.168.0.0/24`, 250 free IPs |
//! | subnet `subnet-default-b` | `b0000000-0000-4000-8000-000000000002` | `192.168.1.0/24`, 250 free IPs |
//! | subnet `subnet-tiny` | `b0000000-0000-4000-8000-000000000003` | `192.168.2.0/29`, 3 free IPs (too few: VPN.0502) |
//! | VPC `vpc-second` | `a0000000-0000-4000-8000-000000000002` | `10.10.0.0/16` |
//! | subnet `subnet-second-a` | `b0000000-0000-4000-8000-000000000004` | `10.10.0.0/24`, 250 free IPs |
//! | EIPs 1-8 | `e0000000-0000-4000-8000-000000000001` … `…000000000008` | `198.51.100.11` … `.18`, `5_bgp`, 300 Mbit/s dedicated, free |
//! | EIP (frozen) | `e0000000-0000-4000-8000-000000000009` | `198.51.100.19`: VPN.0552 |
//! | EIP (bound elsewhere) | `e0000000-0000-4000-8000-000000000010` | `198.51.100.20`: VPN.0553 |
//! | EIP (shared bandwidth) | `e0000000-0000-4000-8000-000000000011` | `198.51.100.21`: VPN.0554 |
//! | enterprise router `er-default` | `f0000000-0000-4000-8000-000000000001` | ASN 64513 |
//! | AZs | `cn-north-4a`, `cn-north-4b`, `cn-north-4c` | see [`World::default`] for the specs each offers |
//!
//! Other defaults: quotas 50 gateways / 100 customer gateways / 5000 connections (the
//! documented example values), an EIP quota of 20, new EIPs drawn from `198.51.100.128/25`,
//! EIP types `5_bgp` and `5_sbgp` (`5_youxuanbgp` sold out), and one connection outcome rule:
//! connections to customer gateways whose IP is in `192.0.2.0/24` come up `DOWN`; all others
//! come up `ACTIVE`.
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Serialize};

/// A VPC and its subnets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub cidr: String,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
}

/// A VPC subnet; gateways take IPs from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub cidr: String,
    /// Free IP addresses left.
    pub available_ips: u32,
    /// Addresses handed out to gateways (private access IPs), by the simulator.
    #[serde(default)]
    pub used_ips: Vec<String>,
}

/// Billing of an EIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Pay-per-use: released with the gateway.
    #[default]
    Postpaid,
    /// Yearly/monthly: a gateway with such an EIP bound cannot be deleted.
    Prepaid,
}

/// An elastic IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eip {
    pub id: String,
    pub address: String,
    #[serde(rename = "type", default = "default_eip_type")]
    pub eip_type: String,
    #[serde(default = "default_charge_mode")]
    pub charge_mode: String,
    #[serde(default)]
    pub bandwidth_id: String,
    #[serde(default)]
    pub bandwidth_name: String,
    #[serde(default = "default_bandwidth")]
    pub bandwidth_size: u32,
    /// `PER` (dedicated) or `WHOLE` (shared).
    #[serde(default = "default_share_type")]
    pub share_type: String,
    #[serde(default = "default_border_group")]
    pub public_border_group: String,
    #[serde(default)]
    pub frozen: bool,
    /// The instance it is bound to (a gateway id, or anything else).
    #[serde(default)]
    pub bound_to: Option<String>,
    #[serde(default)]
    pub billing: Billing,
}

fn default_eip_type() -> String {
    "5_bgp".into()
}
fn default_charge_mode() -> String {
    "bandwidth".into()
}
fn default_bandwidth() -> u32 {
    300
}
fn default_share_type() -> String {
    "PER".into()
}
fn default_border_group() -> String {
    "center".into()
}

/// An enterprise router (for `attachment_type=er` gateways).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseRouter {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "default_er_asn")]
    pub asn: u64,
}

fn default_er_asn() -> u64 {
    64513
}

/// One gateway spec an AZ offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailableSpec {
    pub flavor: String,
    pub attachment_type: String,
    pub ip_version: String,
}

/// An availability zone and the gateway specs it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityZone {
    pub name: String,
    #[serde(default = "default_border_group")]
    pub public_border_group: String,
    pub available_specs: Vec<AvailableSpec>,
}

/// A gateway flavor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flavor {
    pub name: String,
    /// Highest EIP bandwidth (Mbit/s) a gateway of this flavor accepts (VPN.0550 above).
    pub max_bandwidth: u32,
    /// `connection_number`: connections one gateway supports (VPN.0504 above).
    pub connection_number: u32,
}

/// An EIP line type new EIPs can be created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EipType {
    pub name: String,
    #[serde(default)]
    pub sold_out: bool,
}

/// The project quotas reported by `GET /v5/{project_id}/vpn/quotas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    pub vpn_gateway: u32,
    pub customer_gateway: u32,
    pub vpn_connection: u32,
}

impl Default for Quotas {
    /// The documented example values.
    fn default() -> Self {
        Self {
            vpn_gateway: 50,
            customer_gateway: 100,
            vpn_connection: 5000,
        }
    }
}

/// How a settled connection looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionOutcome {
    Active,
    Down,
    Error,
}

impl ConnectionOutcome {
    pub fn as_status(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Down => "DOWN",
            Self::Error => "ERROR",
        }
    }
}

/// "Connections to customer gateways whose IP is in `peer_cidr` settle as `status`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRule {
    pub peer_cidr: String,
    pub status: ConnectionOutcome,
}

/// Everything outside the VPN API that a project's VPN resources refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct World {
    pub vpcs: Vec<Vpc>,
    pub eips: Vec<Eip>,
    pub enterprise_routers: Vec<EnterpriseRouter>,
    pub availability_zones: Vec<AvailabilityZone>,
    pub flavors: Vec<Flavor>,
    pub eip_types: Vec<EipType>,
    /// Most EIPs the project may hold (VPN.0560 when a gateway would create more).
    pub eip_quota: u32,
    /// New EIPs get addresses from this IPv4 CIDR.
    pub eip_pool: String,
    pub quotas: Quotas,
    /// First match wins; customer gateways identified by FQDN use `default_connection_status`.
    pub connection_rules: Vec<ConnectionRule>,
    pub default_connection_status: ConnectionOutcome,
    /// Peer subnets a connection may not use (the documented cloud-reserved ranges).
    pub reserved_peer_cidrs: Vec<String>,
    /// Whether deleting a gateway releases (deletes) its bound pay-per-use EIPs. True by default:
    /// the reference reads the delete API as releasing them (gateways reference §1.5).
    pub release_eips_on_gateway_delete: bool,
}

fn id(prefix: char, n: u32) -> String {
    format!("{prefix}0000000-0000-4000-8000-{n:012}")
}

fn spec(flavor: &str, attachment: &str, ip_version: &str) -> AvailableSpec {
    AvailableSpec {
        flavor: flavor.into(),
        attachment_type: attachment.into(),
        ip_version: ip_version.into(),
    }
}

fn free_eip(n: u32) -> Eip {
    Eip {
        id: id('e', n),
        address: format!("198.51.100.{}", 10 + n),
        eip_type: default_eip_type(),
        charge_mode: default_charge_mode(),
        bandwidth_id: id('d', n),
        bandwidth_name: format!("bandwidth-default-{n}"),
        bandwidth_size: 300,
        share_type: default_share_type(),
        public_border_group: default_border_group(),
        frozen: false,
        bound_to: None,
        billing: Billing::Postpaid,
    }
}

fn subnet(n: u32, name: &str, cidr: &str, free: u32) -> Subnet {
    Subnet {
        id: id('b', n),
        name: name.into(),
        cidr: cidr.into(),
        available_ips: free,
        used_ips: Vec::new(),
    }
}

impl Default for World {
    /// The documented default world (see the module documentation).
    fn default() -> Self {
        let mut eips: Vec<Eip> = (1..=8).map(free_eip).collect();
        eips.push(Eip {
            frozen: true,
            ..free_eip(9)
        });
        eips.push(Eip {
            bound_to: Some("instance-outside-vpn".into()),
            ..free_eip(10)
        });
        eips.push(Eip {
            share_type: "WHOLE".into(),
            ..free_eip(11)
        });
        let all_fixed = ["Basic", "Professional1", "Professional2", "GM"];
        let mut full_specs: Vec<AvailableSpec> =
            all_fixed.iter().map(|f| spec(f, "vpc", "ipv4")).collect();
        full_specs.extend([
            spec("Professional1", "er", "ipv4"),
            spec("Professional2", "er", "ipv4"),
            spec("Professional2", "vpc", "ipv6"),
        ]);
        let mut az_a = full_specs.clone();
        az_a.extend([
            spec("Professional1-NonFixedIP", "vpc", "ipv4"),
            spec("Professional2-NonFixedIP", "vpc", "ipv4"),
        ]);
        let flavor = |name: &str, max_bandwidth, connection_number| Flavor {
            name: name.into(),
            max_bandwidth,
            connection_number,
        };
        Self {
            vpcs: vec![
                Vpc {
                    id: id('a', 1),
                    name: "vpc-default".into(),
                    cidr: "192.168.0.0/16".into(),
                    subnets: vec![
                        subnet(1, "subnet-default-a", "192.168.0.0/24", 250),
                        subnet(2, "subnet-default-b", "192.168.1.0/24", 250),
                        subnet(3, "subnet-tiny", "192.168.2.0/29", 3),
                    ],
                },
                Vpc {
                    id: id('a', 2),
                    name: "vpc-second".into(),
                    cidr: "10.10.0.0/16".into(),
                    subnets: vec![subnet(4, "subnet-second-a", "10.10.0.0/24", 250)],
                },
            ],
            eips,
            enterprise_routers: vec![EnterpriseRouter {
                id: id('f', 1),
                name: "er-default".into(),
                asn: 64513,
            }],
            availability_zones: vec![
                AvailabilityZone {
                    name: "cn-north-4a".into(),
                    public_border_group: "center".into(),
                    available_specs: az_a,
                },
                AvailabilityZone {
                    name: "cn-north-4b".into(),
                    public_border_group: "center".into(),
                    available_specs: full_specs,
                },
                AvailabilityZone {
                    name: "cn-north-4c".into(),
                    public_border_group: "center".into(),
                    available_specs: ["Basic", "Professional1", "Professional2"]
                        .iter()
                        .map(|f| spec(f, "vpc", "ipv4"))
                        .collect(),
                },
            ],
            // Bandwidth caps from the reference (§3.3); connection numbers: 200 as in every
            // example, 100 for Basic (assumption).
            flavors: vec![
                flavor("Basic", 100, 100),
                flavor("Professional1", 300, 200),
                flavor("Professional2", 1000, 200),
                flavor("GM", 500, 200),
                flavor("Professional1-NonFixedIP", 300, 200),
                flavor("Professional2-NonFixedIP", 1000, 200),
            ],
            eip_types: vec![
                EipType {
                    name: "5_bgp".into(),
                    sold_out: false,
                },
                EipType {
                    name: "5_sbgp".into(),
                    sold_out: false,
                },
                EipType {
                    name: "5_youxuanbgp".into(),
                    sold_out: true,
                },
            ],
            eip_quota: 20,
            eip_pool: "198.51.100.128/25".into(),
            quotas: Quotas::default(),
            connection_rules: vec![ConnectionRule {
                peer_cidr: "192.0.2.0/24".into(),
                status: ConnectionOutcome::Down,
            }],
            default_connection_status: ConnectionOutcome::Active,
            reserved_peer_cidrs: vec!["100.64.0.0/10".into(), "214.0.0.0/8".into()],
            release_eips_on_gateway_delete: true,
        }
    }
}

/// A world that cannot be used, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot read world file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("world file {path} is not valid {format}: {message}")]
    Parse {
        path: String,
        format: &'static str,
        message: String,
    },
    #[error("invalid world: {0}")]
    Invalid(String),
}

/// A world file: either one [`World`] for every project, or
/// `{default: World, projects: {project_id: World}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    #[serde(default)]
    pub default: Option<World>,
    #[serde(default)]
    pub projects: BTreeMap<String, World>,
}

impl WorldFile {
    /// Parses YAML or JSON text (JSON is valid YAML).
    pub fn parse(text: &str, path: &str) -> Result<Self, WorldError> {
        let format = if path.ends_with(".json") {
            "JSON"
        } else {
            "YAML"
        };
        let value: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| WorldError::Parse {
                path: path.into(),
                format,
                message: e.to_string(),
            })?;
        let is_multi = value
            .as_mapping()
            .is_some_and(|m| m.contains_key("projects") || m.contains_key("default"));
        let file = if is_multi {
            serde_yaml::from_value::<WorldFile>(value)
        } else {
            serde_yaml::from_value::<World>(value).map(|w| WorldFile {
                default: Some(w),
                projects: BTreeMap::new(),
            })
        }
        .map_err(|e| WorldError::Parse {
            path: path.into(),
            format,
            message: e.to_string(),
        })?;
        if let Some(w) = &file.default {
            w.check()?;
        }
        for (p, w) in &file.projects {
            w.check()
                .map_err(|e| WorldError::Invalid(format!("project {p}: {e}")))?;
        }
        Ok(file)
    }

    /// Reads and parses a world file.
    pub fn load(path: &Path) -> Result<Self, WorldError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WorldError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }
}

impl World {
    /// Checks ids are unique and CIDRs / addresses parse.
    pub fn check(&self) -> Result<(), WorldError> {
        let bad = |m: String| Err(WorldError::Invalid(m));
        let mut ids = std::collections::BTreeSet::new();
        let mut unique = |id: &str| ids.insert(id.to_string());
        for vpc in &self.vpcs {
            if !unique(&vpc.id) {
                return bad(format!("duplicate id {}", vpc.id));
            }
            if vpc.cidr.parse::<IpNet>().is_err() {
                return bad(format!("VPC {} has an invalid cidr {:?}", vpc.id, vpc.cidr));
            }
            for s in &vpc.subnets {
                if !unique(&s.id) {
                    return bad(format!("duplicate id {}", s.id));
                }
                if s.cidr.parse::<IpNet>().is_err() {
                    return bad(format!("subnet {} has an invalid cidr {:?}", s.id, s.cidr));
                }
            }
        }
        for e in &self.eips {
            if !unique(&e.id) {
                return bad(format!("duplicate id {}", e.id));
            }
            if e.address.parse::<Ipv4Addr>().is_err() {
                return bad(format!(
                    "EIP {} has an invalid address {:?}",
                    e.id, e.address
                ));
            }
        }
        for er in &self.enterprise_routers {
            if !unique(&er.id) {
                return bad(format!("duplicate id {}", er.id));
            }
        }
        if self.eip_pool.parse::<Ipv4Net>().is_err() {
            return bad(format!("eip_pool {:?} is not an IPv4 CIDR", self.eip_pool));
        }
        for r in &self.connection_rules {
            if r.peer_cidr.parse::<IpNet>().is_err() {
                return bad(format!("connection rule cidr {:?} is invalid", r.peer_cidr));
            }
        }
        for c in &self.reserved_peer_cidrs {
            if c.parse::<IpNet>().is_err() {
                return bad(format!("reserved peer cidr {c:?} is invalid"));
            }
        }
        Ok(())
    }

    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        self.vpcs.iter().find(|v| v.id == id)
    }

    /// A subnet and the id of its VPC.
    pub fn subnet(&self, id: &str) -> Option<(&Vpc, &Subnet)> {
        self.vpcs
            .iter()
            .find_map(|v| v.subnets.iter().find(|s| s.id == id).map(|s| (v, s)))
    }

    pub fn subnet_mut(&mut self, id: &str) -> Option<&mut Subnet> {
        self.vpcs
            .iter_mut()
            .find_map(|v| v.subnets.iter_mut().find(|s| s.id == id))
    }

    pub fn eip(&self, id: &str) -> Option<&Eip> {
        self.eips.iter().find(|e| e.id == id)
    }

    pub fn eip_mut(&mut self, id: &str) -> Option<&mut Eip> {
        self.eips.iter_mut().find(|e| e.id == id)
    }

    pub fn er(&self, id: &str) -> Option<&EnterpriseRouter> {
        self.enterprise_routers.iter().find(|e| e.id == id)
    }

    pub fn flavor(&self, name: &str) -> Option<&Flavor> {
        self.flavors.iter().find(|f| f.name == name)
    }

    /// AZs offering a gateway spec, in world order.
    pub fn azs_for(&self, flavor: &str, attachment: &str, ip_version: &str) -> Vec<String> {
        self.availability_zones
            .iter()
            .filter(|az| {
                az.available_specs.iter().any(|s| {
                    s.flavor == flavor
                        && s.attachment_type == attachment
                        && s.ip_version == ip_version
                })
            })
            .map(|az| az.name.clone())
            .collect()
    }

    /// How a connection to a customer gateway identified by `peer` (an IP or FQDN) settles.
    pub fn connection_outcome(&self, peer: &str) -> ConnectionOutcome {
        if let Ok(ip) = peer.parse::<std::net::IpAddr>() {
            for rule in &self.connection_rules {
                if let Ok(net) = rule.peer_cidr.parse::<IpNet>() {
                    if net.contains(&ip) {
                        return rule.status;
                    }
                }
            }
        }
        self.default_connection_status
    }

    /// The first free address of the EIP pool, if any.
    pub fn next_eip_address(&self) -> Option<String> {
        let pool: Ipv4Net = self.eip_pool.parse().ok()?;
        pool.hosts()
            .map(|a| a.to_string())
            .find(|a| !self.eips.iter().any(|e| &e.address == a))
    }

    /// Takes `n` addresses from a subnet's free count.
    pub fn take_ips(&mut self, subnet_id: &str, n: u32) {
        if let Some(s) = self.subnet_mut(subnet_id) {
            s.available_ips = s.available_ips.saturating_sub(n);
        }
    }

    /// Gives `n` addresses back to a subnet.
    pub fn give_ips(&mut self, subnet_id: &str, n: u32) {
        if let Some(s) = self.subnet_mut(subnet_id) {
            s.available_ips = s.available_ips.saturating_add(n);
        }
    }

    /// A free host address in a subnet that nobody uses yet (for private access IPs). Skips the
    /// first host addresses, which the VPC keeps for itself.
    pub fn free_ip_in(&self, subnet_id: &str, taken: &[String]) -> Option<String> {
        let (_, s) = self.subnet(subnet_id)?;
        let net: Ipv4Net = s.cidr.parse().ok()?;
        net.hosts()
            .skip(8)
            .map(|a| a.to_string())
            .find(|a| !s.used_ips.contains(a) && !taken.contains(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_world_is_valid_and_has_what_examples_need() {
        let w = World::default();
        w.check().unwrap();
        let vpc = w.vpc("a0000000-0000-4000-8000-000000000001").unwrap();
        assert!(vpc.subnets.len() >= 2);
        let free = w
            .eips
            .iter()
            .filter(|e| e.bound_to.is_none() && !e.frozen && e.share_type == "PER")
            .count();
        assert!(free >= 4);
        assert!(w.availability_zones.len() >= 2);
        assert_eq!(
            w.azs_for("Professional1", "vpc", "ipv4"),
            ["cn-north-4a", "cn-north-4b", "cn-north-4c"]
        );
        assert_eq!(w.azs_for("Basic", "er", "ipv4"), Vec::<String>::new());
    }

    #[test]
    fn connection_rules_pick_the_outcome() {
        let w = World::default();
        assert_eq!(w.connection_outcome("192.0.2.10"), ConnectionOutcome::Down);
        assert_eq!(
            w.connection_outcome("203.0.113.7"),
            ConnectionOutcome::Active
        );
        assert_eq!(
            w.connection_outcome("vpn.example.com"),
            ConnectionOutcome::Active
        );
    }

    #[test]
    fn world_files_take_one_world_or_per_project_worlds() {
        let one = WorldFile::parse("eip_quota: 3\n", "w.yaml").unwrap();
        let w = one.default.unwrap();
        assert_eq!(w.eip_quota, 3);
        // Fields not given keep the default world's values.
        assert_eq!(w.vpcs, World::default().vpcs);

        let multi = WorldFile::parse(
            r#"{"projects": {"p2": {"quotas": {"vpn_gateway": 1}}}}"#,
            "w.json",
        )
        .unwrap();
        assert!(multi.default.is_none());
        assert_eq!(multi.projects["p2"].quotas.vpn_gateway, 1);
    }

    #[test]
    fn world_files_reject_typos_and_bad_values() {
        let err = WorldFile::parse("eip_qouta: 3\n", "w.yaml").unwrap_err();
        assert!(err.to_string().contains("eip_qouta"), "{err}");
        let err = WorldFile::parse("eip_pool: nope\n", "w.yaml").unwrap_err();
        assert!(err.to_string().contains("eip_pool"), "{err}");
    }

    #[test]
    fn eip_pool_hands_out_unused_addresses() {
        let mut w = World::default();
        let a = w.next_eip_address().unwrap();
        assert_eq!(a, "198.51.100.129");
        w.eips.push(Eip {
            address: a,
            ..free_eip(99)
        });
        assert_eq!(w.next_eip_address().unwrap(), "198.51.100.130");
    }
}
