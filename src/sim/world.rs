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
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};
use std::path::Path;

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// The EIPs of a world, in world order, indexed by id and by address.
///
/// Serializes as (and deserializes from) the plain sequence of [`Eip`]s, exactly as a
/// `Vec<Eip>` would. Reads go through `Deref<Target = [Eip]>` (`len`, `iter`, indexing, …) and
/// [`Eips::get`]; changes go through [`Eips::push`], [`Eips::remove`], [`Eips::retain`] and
/// [`Eips::get_mut`], which keep the indexes in step with the list.
#[derive(Clone, Default)]
pub struct Eips {
    list: Vec<Eip>,
    /// Id → position in `list` of the first EIP with that id.
    by_id: HashMap<String, usize>,
    /// Whether some id occurs more than once (possible only in a world that was not checked).
    duplicate_ids: bool,
    addresses: UsedAddresses,
}

impl Eips {
    /// The first EIP with this id.
    pub fn get(&self, id: &str) -> Option<&Eip> {
        self.by_id.get(id).map(|&i| &self.list[i])
    }

    /// The first EIP with this id, to change. The indexes follow any change of its id or address
    /// when the returned guard is dropped.
    pub fn get_mut(&mut self, id: &str) -> Option<EipMut<'_>> {
        let pos = *self.by_id.get(id)?;
        let address_before = address_key(&self.list[pos].address);
        Some(EipMut {
            eips: self,
            pos,
            address_before,
        })
    }

    /// Appends an EIP (the last in world order).
    pub fn push(&mut self, eip: Eip) {
        match self.by_id.entry(eip.id.clone()) {
            Entry::Occupied(_) => self.duplicate_ids = true,
            Entry::Vacant(v) => {
                v.insert(self.list.len());
            }
        }
        if let Some(a) = address_key(&eip.address) {
            self.addresses.add(a);
        }
        self.list.push(eip);
    }

    /// Removes every EIP with this id (one in a checked world) and returns the first, keeping the
    /// order of the others.
    pub fn remove(&mut self, id: &str) -> Option<Eip> {
        let pos = *self.by_id.get(id)?;
        if self.duplicate_ids {
            let first = self.list[pos].clone();
            self.retain(|e| e.id != id);
            return Some(first);
        }
        self.by_id.remove(id);
        let eip = self.list.remove(pos);
        for i in self.by_id.values_mut() {
            if *i > pos {
                *i -= 1;
            }
        }
        if let Some(a) = address_key(&eip.address) {
            self.addresses.remove(a);
        }
        Some(eip)
    }

    /// Keeps only the EIPs for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Eip) -> bool) {
        let before = self.list.len();
        self.list.retain(keep);
        if self.list.len() != before {
            self.reindex();
        }
    }

    /// The first address in `first..=last` that no EIP holds.
    pub fn first_free_address(&self, first: Ipv4Addr, last: Ipv4Addr) -> Option<Ipv4Addr> {
        self.addresses
            .first_free(first.into(), last.into())
            .map(Ipv4Addr::from)
    }

    /// Rebuilds the indexes from the list, as if its EIPs were pushed one by one.
    fn reindex(&mut self) {
        let list = std::mem::take(&mut self.list);
        *self = Self::default();
        for e in list {
            self.push(e);
        }
    }
}

impl From<Vec<Eip>> for Eips {
    fn from(list: Vec<Eip>) -> Self {
        let mut eips = Self {
            list,
            ..Self::default()
        };
        eips.reindex();
        eips
    }
}

impl FromIterator<Eip> for Eips {
    fn from_iter<I: IntoIterator<Item = Eip>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl Deref for Eips {
    type Target = [Eip];
    fn deref(&self) -> &[Eip] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Eips {
    type Item = &'a Eip;
    type IntoIter = std::slice::Iter<'a, Eip>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl PartialEq for Eips {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl Eq for Eips {}

impl fmt::Debug for Eips {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.list, f)
    }
}

impl Serialize for Eips {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Eips {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Eip>::deserialize(d).map(Self::from)
    }
}

/// One EIP of an [`Eips`] being changed; updates the indexes on drop if its id or address
/// changed.
pub struct EipMut<'a> {
    eips: &'a mut Eips,
    pos: usize,
    /// Its address before the change (a field name [`Eip`] does not have, so that `e.address`
    /// reaches the EIP's).
    address_before: Option<u32>,
}

impl Deref for EipMut<'_> {
    type Target = Eip;
    fn deref(&self) -> &Eip {
        &self.eips.list[self.pos]
    }
}

impl DerefMut for EipMut<'_> {
    fn deref_mut(&mut self) -> &mut Eip {
        &mut self.eips.list[self.pos]
    }
}

impl Drop for EipMut<'_> {
    fn drop(&mut self) {
        let eips = &mut *self.eips;
        let e = &eips.list[self.pos];
        if eips.by_id.get(e.id.as_str()) != Some(&self.pos) {
            // The id changed: rare (the admin API refuses it), so rebuild.
            eips.reindex();
            return;
        }
        let address = address_key(&e.address);
        if address != self.address_before {
            if let Some(old) = self.address_before {
                eips.addresses.remove(old);
            }
            if let Some(new) = address {
                eips.addresses.add(new);
            }
        }
    }
}

/// An address as the EIP pool would hand it out (`Ipv4Addr`'s own spelling); other spellings
/// never equal a pool address, so they do not take one.
fn address_key(address: &str) -> Option<u32> {
    let a: Ipv4Addr = address.parse().ok()?;
    (a.to_string() == address).then(|| a.into())
}

/// The IPv4 addresses EIPs hold: how many EIPs hold each, and the maximal runs of consecutive
/// held addresses, so the first free address from some point on is one range lookup.
#[derive(Debug, Clone, Default)]
struct UsedAddresses {
    count: HashMap<u32, u32>,
    /// First address → last address of each maximal run.
    runs: BTreeMap<u32, u32>,
}

impl UsedAddresses {
    fn add(&mut self, a: u32) {
        let n = self.count.entry(a).or_insert(0);
        *n += 1;
        if *n > 1 {
            return;
        }
        let mut start = a;
        let mut end = a;
        if let Some(before) = a.checked_sub(1) {
            if let Some((&s, &e)) = self.runs.range(..=before).next_back() {
                if e == before {
                    start = s;
                }
            }
        }
        if let Some(after) = a.checked_add(1) {
            if let Some(e) = self.runs.remove(&after) {
                end = e;
            }
        }
        self.runs.insert(start, end);
    }

    fn remove(&mut self, a: u32) {
        let Entry::Occupied(mut n) = self.count.entry(a) else {
            return;
        };
        *n.get_mut() -= 1;
        if *n.get() > 0 {
            return;
        }
        n.remove();
        // The run holding `a`: the last one starting at or before it.
        let Some((&s, &e)) = self.runs.range(..=a).next_back() else {
            return;
        };
        self.runs.remove(&s);
        if s < a {
            self.runs.insert(s, a - 1);
        }
        if a < e {
            self.runs.insert(a + 1, e);
        }
    }

    /// The first address in `first..=last` nobody holds.
    fn first_free(&self, first: u32, last: u32) -> Option<u32> {
        let free = match self.runs.range(..=first).next_back() {
            Some((_, &e)) if e >= first => e.checked_add(1)?,
            _ => first,
        };
        (free <= last).then_some(free)
    }
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
    /// Serialized as the plain list of EIPs, in order.
    pub eips: Eips,
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
            eips: eips.into(),
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
        self.eips.get(id)
    }

    /// An EIP to change (see [`Eips::get_mut`]).
    pub fn eip_mut(&mut self, id: &str) -> Option<EipMut<'_>> {
        self.eips.get_mut(id)
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

    /// The first free address of the EIP pool (in `hosts()` order), if any.
    pub fn next_eip_address(&self) -> Option<String> {
        let pool: Ipv4Net = self.eip_pool.parse().ok()?;
        let mut hosts = pool.hosts();
        let first = hosts.next()?;
        let last = hosts.next_back().unwrap_or(first);
        self.eips
            .first_free_address(first, last)
            .map(|a| a.to_string())
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

    fn eip_at(n: u32, address: &str) -> Eip {
        Eip {
            address: address.into(),
            ..free_eip(n)
        }
    }

    /// Every EIP is found by its id at its place in the list, and nothing else is found.
    fn assert_indexed(eips: &Eips) {
        for e in eips.iter() {
            assert_eq!(eips.get(&e.id), Some(e), "{}", e.id);
        }
        assert_eq!(eips.by_id.len(), eips.len());
    }

    #[test]
    fn eips_push_and_look_up_by_id() {
        let mut w = World::default();
        assert_indexed(&w.eips);
        assert_eq!(w.eip(&id('e', 9)).unwrap().address, "198.51.100.19");
        assert!(w.eip(&id('e', 99)).is_none());
        w.eips.push(eip_at(99, "203.0.113.1"));
        assert_eq!(w.eips.len(), 12);
        assert_eq!(w.eips[11].id, id('e', 99));
        assert_eq!(w.eip(&id('e', 99)).unwrap().address, "203.0.113.1");
        assert_eq!(w.eip(&id('e', 1)).unwrap().address, "198.51.100.11");
        assert_indexed(&w.eips);
    }

    #[test]
    fn eips_remove_and_retain_keep_the_index_in_step() {
        let mut eips: Eips = (1..=6).map(free_eip).collect();
        let removed = eips.remove(&id('e', 2)).unwrap();
        assert_eq!(removed.id, id('e', 2));
        assert!(eips.get(&id('e', 2)).is_none());
        assert!(eips.remove(&id('e', 2)).is_none());
        // Later EIPs moved up one place; each is still found, and is the right one.
        assert_eq!(eips.get(&id('e', 5)).unwrap().address, "198.51.100.15");
        assert_eq!(eips.get(&id('e', 6)).unwrap().address, "198.51.100.16");
        assert_eq!(eips.get(&id('e', 1)).unwrap().address, "198.51.100.11");
        assert_indexed(&eips);

        eips.retain(|e| e.id != id('e', 3) && e.id != id('e', 5));
        let left: Vec<&str> = eips.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(left, [id('e', 1), id('e', 4), id('e', 6)]);
        assert!(eips.get(&id('e', 3)).is_none());
        assert!(eips.get(&id('e', 5)).is_none());
        assert_eq!(eips.get(&id('e', 6)).unwrap().address, "198.51.100.16");
        assert_indexed(&eips);

        // A new EIP after removals lands at the end and is found there.
        eips.push(free_eip(7));
        assert_eq!(eips[3].id, id('e', 7));
        assert_eq!(eips.get(&id('e', 7)), Some(&eips[3]));
        assert_indexed(&eips);
    }

    #[test]
    fn eips_with_a_duplicate_id_behave_like_the_plain_list() {
        // Only an unchecked world can have one: the first wins, removal takes all.
        let mut eips = Eips::from(vec![
            eip_at(1, "203.0.113.1"),
            eip_at(2, "203.0.113.2"),
            eip_at(1, "203.0.113.3"),
            eip_at(3, "203.0.113.4"),
        ]);
        assert_eq!(eips.get(&id('e', 1)).unwrap().address, "203.0.113.1");
        assert_eq!(eips.remove(&id('e', 1)).unwrap().address, "203.0.113.1");
        assert!(eips.get(&id('e', 1)).is_none());
        assert_eq!(eips.len(), 2);
        assert_eq!(eips.get(&id('e', 3)).unwrap().address, "203.0.113.4");
        assert_eq!(
            eips.first_free_address([203, 0, 113, 1].into(), [203, 0, 113, 9].into()),
            Some([203, 0, 113, 1].into())
        );
        assert_indexed(&eips);
    }

    #[test]
    fn eip_mut_keeps_the_index_when_the_id_or_address_changes() {
        let mut w = World::default();
        w.eip_mut(&id('e', 1)).unwrap().bound_to = Some("gw".into());
        assert_eq!(w.eip(&id('e', 1)).unwrap().bound_to.as_deref(), Some("gw"));

        w.eip_pool = "198.51.100.8/29".into(); // hosts .9 … .14; .11 … .14 are taken
        assert_eq!(w.next_eip_address().unwrap(), "198.51.100.9");
        w.eips.push(eip_at(20, "198.51.100.9"));
        w.eips.push(eip_at(21, "198.51.100.10"));
        assert_eq!(w.next_eip_address(), None);
        w.eip_mut(&id('e', 2)).unwrap().address = "203.0.113.2".into();
        assert_eq!(w.next_eip_address().unwrap(), "198.51.100.12");
        *w.eip_mut(&id('e', 20)).unwrap() = eip_at(20, "198.51.100.12");
        assert_eq!(w.next_eip_address().unwrap(), "198.51.100.9");

        let mut e = w.eip_mut(&id('e', 3)).unwrap();
        e.id = id('e', 30);
        drop(e);
        assert!(w.eip(&id('e', 3)).is_none());
        assert_eq!(w.eip(&id('e', 30)).unwrap().address, "198.51.100.13");
        assert_eq!(w.eips[2].id, id('e', 30));
        assert_indexed(&w.eips);
    }

    #[test]
    fn eips_serialize_as_the_plain_list_in_order() {
        let mut w = World::default();
        w.eips.push(eip_at(99, "203.0.113.1"));
        w.eips.remove(&id('e', 4));
        let plain: Vec<Eip> = w.eips.to_vec();
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["eips"], serde_json::to_value(&plain).unwrap());
        assert_eq!(json["eips"][10]["id"], id('e', 99));

        let back: World = serde_json::from_value(json).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.eips.to_vec(), plain);
        assert_eq!(back.eip(&id('e', 99)).unwrap().address, "203.0.113.1");
        assert!(back.eip(&id('e', 4)).is_none());
        assert_indexed(&back.eips);
        // In use addresses come through too.
        let mut back = back;
        back.eip_pool = "203.0.113.0/30".into();
        assert_eq!(back.next_eip_address().unwrap(), "203.0.113.2");

        let file = WorldFile::parse(
            "eips:\n  - id: x\n    address: 198.51.100.129\n  - {id: y, address: 198.51.100.131}\n",
            "w.yaml",
        )
        .unwrap();
        let w = file.default.unwrap();
        assert_eq!(w.eip("y").unwrap().address, "198.51.100.131");
        assert_eq!(w.eips[0].id, "x");
        assert_eq!(w.next_eip_address().unwrap(), "198.51.100.130");
    }

    #[test]
    fn eip_pool_skips_used_addresses_and_reuses_released_ones() {
        let mut w = World {
            eip_pool: "203.0.113.0/29".into(), // hosts .1 … .6
            ..World::default()
        };
        w.eips.push(eip_at(21, "203.0.113.1"));
        w.eips.push(eip_at(22, "203.0.113.2"));
        w.eips.push(eip_at(24, "203.0.113.4"));
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.3");
        w.eips.push(eip_at(23, "203.0.113.3"));
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.5");
        // Another spelling of an address is not that address (as with the string compare).
        w.eips.push(eip_at(25, "203.0.113.05"));
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.5");
        w.eips.remove(&id('e', 22));
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.2");
        w.eips.push(eip_at(26, "203.0.113.2"));
        w.eips.push(eip_at(27, "203.0.113.5"));
        w.eips.push(eip_at(28, "203.0.113.6"));
        assert_eq!(w.next_eip_address(), None);
        // Two EIPs on one address: it frees only when both are gone.
        w.eips.push(eip_at(29, "203.0.113.6"));
        w.eips.remove(&id('e', 28));
        assert_eq!(w.next_eip_address(), None);
        w.eips.remove(&id('e', 29));
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.6");
        // /31 and /32 pools: every address is a host.
        w.eip_pool = "203.0.113.6/31".into();
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.6");
        w.eip_pool = "203.0.113.1/32".into();
        assert_eq!(w.next_eip_address(), None);
        w.eip_pool = "203.0.113.7/32".into();
        assert_eq!(w.next_eip_address().unwrap(), "203.0.113.7");
    }

    #[test]
    fn eip_pool_agrees_with_a_plain_scan() {
        // Random pushes, removals and address changes in a small pool, checked against the
        // original linear search after each step.
        let naive = |w: &World| {
            let pool: Ipv4Net = w.eip_pool.parse().unwrap();
            pool.hosts()
                .map(|a| a.to_string())
                .find(|a| !w.eips.iter().any(|e| &e.address == a))
        };
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut w = World {
            eip_pool: "10.0.0.0/28".into(),
            eips: Eips::default(),
            ..World::default()
        };
        let mut next = 0;
        for step in 0..5000 {
            let address = format!("10.0.0.{}", rand(18));
            match rand(4) {
                0 | 1 => {
                    next += 1;
                    w.eips.push(eip_at(next, &address));
                }
                2 if !w.eips.is_empty() => {
                    let id = w.eips[rand(w.eips.len() as u64) as usize].id.clone();
                    w.eips.remove(&id);
                }
                _ if !w.eips.is_empty() => {
                    let id = w.eips[rand(w.eips.len() as u64) as usize].id.clone();
                    w.eip_mut(&id).unwrap().address = address;
                }
                _ => {}
            }
            assert_eq!(w.next_eip_address(), naive(&w), "step {step}");
            if step % 97 == 0 {
                w.eips.retain(|e| !e.address.ends_with('3'));
                assert_eq!(w.next_eip_address(), naive(&w), "step {step}");
                assert_indexed(&w.eips);
            }
        }
        assert_indexed(&w.eips);
    }
}
