//! What a run creates: the simulator's world (enough EIPs, subnet addresses and quotas for N
//! gateways), the Secrets (cloud credentials, pre-shared keys) and the custom resources as
//! multi-document YAML files applied in batches.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vpn_operator::sim::world::{Eip, Quotas, Subnet, Vpc};
use vpn_operator::sim::World;

/// Name of the Secret with the cloud credentials, in the run's (first) namespace: the
/// operator's own account (`--credentials-secret`).
pub const CREDS_SECRET: &str = "load-cloud-credentials";
/// Name of the Secret that gives a namespace its own cloud account (the operator's default
/// `--account-secret-name`); written in every namespace of a run over several accounts.
pub const ACCOUNT_SECRET: &str = "vpn-operator-account";
/// Regions the accounts of a many-account run are spread over (any valid name: the
/// simulator serves every project at one endpoint, which each account Secret names).
pub const REGIONS: [&str; 4] = ["cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1"];
const VPC_ID: &str = "a1000000-0000-4000-8000-000000000001";
const SUBNET_ID: &str = "b1000000-0000-4000-8000-000000000001";
/// Pre-shared-key Secrets are shared round-robin by the connections.
pub const PSK_SECRETS: usize = 8;

/// How a run's objects are spread over namespaces, one cloud account each: object `i` of every
/// kind lives in namespace `i % K` (round-robin), so a connection and the gateways it names
/// share a namespace; inside its account it is the `i / K`-th object (its EIPs and PSK).
#[derive(Debug, Clone)]
pub struct Layout {
    pub namespaces: Vec<String>,
    /// Pre-shared-key Secrets per namespace, shared round-robin by its connections.
    pub psks_per_namespace: usize,
}

impl Layout {
    /// `k` namespaces named `base` (one account) or `base-a0000`, ... (several).
    pub fn new(base: &str, k: usize) -> Layout {
        let k = k.max(1);
        let namespaces = if k == 1 {
            vec![base.to_string()]
        } else {
            (0..k).map(|a| format!("{base}-a{a:04}")).collect()
        };
        Layout {
            namespaces,
            psks_per_namespace: (PSK_SECRETS / k).max(1),
        }
    }

    pub fn accounts(&self) -> usize {
        self.namespaces.len()
    }

    /// The account (and namespace index) of object `i`.
    pub fn account_of(&self, i: usize) -> usize {
        i % self.accounts()
    }

    /// Object `i`'s index among its account's objects.
    pub fn local(&self, i: usize) -> usize {
        i / self.accounts()
    }

    pub fn namespace_of(&self, i: usize) -> &str {
        &self.namespaces[self.account_of(i)]
    }

    /// Objects of each kind in the busiest account when there are `n` of each kind.
    pub fn per_account(&self, n: usize) -> usize {
        n.div_ceil(self.accounts())
    }
}

/// The three kinds, with the plural `kubectl` names and object-name prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Gateway,
    CustomerGateway,
    Connection,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Gateway, Kind::CustomerGateway, Kind::Connection];

    /// The `kubectl` resource name.
    ///
    /// Written `plural.version.group`: kubectl first reads `plural.group` with a dotted group
    /// as `plural.version.group` too, misses, and then throws its discovery cache away and
    /// rediscovers every API group (27 requests) on every call.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Gateway => "vpngateways.v1alpha1.vpn.hwcloud.dev",
            Kind::CustomerGateway => "customergateways.v1alpha1.vpn.hwcloud.dev",
            Kind::Connection => "vpnconnections.v1alpha1.vpn.hwcloud.dev",
        }
    }

    /// The CRD `kind`.
    pub fn crd_kind(self) -> &'static str {
        match self {
            Kind::Gateway => "VpnGateway",
            Kind::CustomerGateway => "CustomerGateway",
            Kind::Connection => "VpnConnection",
        }
    }

    pub fn from_crd_kind(k: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|x| x.crd_kind() == k)
    }

    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Gateway => "gateway",
            Kind::CustomerGateway => "customer gw",
            Kind::Connection => "connection",
        }
    }

    /// The key of this kind's list in the simulator's `/_sim/state` project view, and the
    /// key of the resource inside each entry.
    pub fn sim_keys(self) -> (&'static str, &'static str) {
        match self {
            Kind::Gateway => ("vpn_gateways", "vpn_gateway"),
            Kind::CustomerGateway => ("customer_gateways", "customer_gateway"),
            Kind::Connection => ("vpn_connections", "vpn_connection"),
        }
    }

    pub fn name(self, i: usize) -> String {
        match self {
            Kind::Gateway => format!("gw-{i:05}"),
            Kind::CustomerGateway => format!("cgw-{i:05}"),
            Kind::Connection => format!("conn-{i:05}"),
        }
    }
}

/// A world (one per account: the simulator's default world) with room for `n` public gateways: 2n EIPs (`11.x.y.z`), one large subnet, quotas
/// and an EIP quota above `n`. EIPs are only unbound on gateway delete, so a world serves
/// several create/delete rounds (the crash test).
pub fn world(n: usize) -> World {
    let mut w = World {
        vpcs: vec![Vpc {
            id: VPC_ID.into(),
            name: "vpc-load".into(),
            cidr: "10.0.0.0/8".into(),
            subnets: vec![Subnet {
                id: SUBNET_ID.into(),
                name: "subnet-load".into(),
                cidr: "10.0.0.0/9".into(),
                available_ips: u32::try_from(n * 4 + 1000).unwrap_or(u32::MAX),
                used_ips: Vec::new(),
            }],
        }],
        ..World::default()
    };
    let template = w.eips[0].clone();
    w.eips = (1..=2 * n)
        .map(|i| Eip {
            id: eip_id(i),
            address: format!("11.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            bandwidth_id: format!("d1000000-0000-4000-8000-{i:012}"),
            bandwidth_name: format!("bw-load-{i}"),
            ..template.clone()
        })
        .collect();
    let cap = u32::try_from(n + 10).unwrap_or(u32::MAX);
    w.eip_quota = u32::try_from(2 * n + 10).unwrap_or(u32::MAX);
    w.quotas = Quotas {
        vpn_gateway: cap,
        customer_gateway: cap,
        vpn_connection: cap,
    };
    w.release_eips_on_gateway_delete = false;
    w
}

fn eip_id(i: usize) -> String {
    format!("e1000000-0000-4000-8000-{i:012}")
}

/// A random pre-shared key: 8-128 characters with upper, lower, digits and a special character.
pub fn random_psk() -> String {
    format!("Psk-{:016x}-Zq9", rand::random::<u64>())
}

/// A random secret key (the simulator accepts any string).
pub fn random_sk() -> String {
    format!("load-sk-{:032x}", rand::random::<u128>())
}

/// The operator's credentials Secret.
pub fn creds_yaml(ns: &str, ak: &str, sk: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {CREDS_SECRET}\n  namespace: {ns}\nstringData:\n  accessKey: {ak}\n  secretKey: {sk}\n"
    )
}

/// A namespace's account Secret (docs/INSTALL.md, "a cloud account per namespace").
pub fn account_yaml(
    ns: &str,
    region: &str,
    project: &str,
    endpoint: &str,
    ak: &str,
    sk: &str,
) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {ACCOUNT_SECRET}\n  namespace: {ns}\nstringData:\n  region: {region}\n  projectId: {project}\n  endpoint: {endpoint}\n  accessKey: {ak}\n  secretKey: {sk}\n"
    )
}

/// The pre-shared-key Secrets of one namespace.
pub fn psk_yaml(ns: &str, psks: &[String]) -> String {
    let mut y = String::new();
    for (i, psk) in psks.iter().enumerate() {
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: load-psk-{i}\n  namespace: {ns}\nstringData:\n  psk: \"{psk}\"\n"
        );
    }
    y
}

/// The spec variant: 0 at create, then each update round bumps it (crash test).
pub fn object_yaml(kind: Kind, layout: &Layout, i: usize, variant: usize) -> String {
    let name = kind.name(i);
    let ns = layout.namespace_of(i);
    let j = layout.local(i);
    let head = format!(
        "apiVersion: vpn.hwcloud.dev/v1alpha1\nkind: {}\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    load.vpn.hwcloud.dev/run: \"true\"\nspec:\n",
        kind.crd_kind()
    );
    let body = match kind {
        Kind::Gateway => {
            let extra = if variant > 0 {
                format!(", 192.168.{}.0/24", 1 + variant % 200)
            } else {
                String::new()
            };
            format!(
                "  attachmentType: vpc\n  networkType: public\n  vpcId: {VPC_ID}\n  connectSubnet: {SUBNET_ID}\n  localSubnets: [192.168.0.0/24{extra}]\n  flavor: Professional1\n  haMode: active-active\n  eip1: {{id: {}}}\n  eip2: {{id: {}}}\n  tags: {{load: \"v{variant}\"}}\n",
                eip_id(2 * j + 1),
                eip_id(2 * j + 2)
            )
        }
        // 12.a.b.c with c in 1..=250: a valid host address for every i below 15.6 million.
        Kind::CustomerGateway => format!(
            "  idType: ip\n  idValue: 12.{}.{}.{}\n  tags: {{load: \"v{variant}\"}}\n",
            i / 62_500,
            (i / 250) % 250,
            i % 250 + 1
        ),
        Kind::Connection => {
            let extra = if variant > 0 {
                format!(", 172.{}.0.0/16", 17 + variant % 14)
            } else {
                String::new()
            };
            format!(
                "  vpnGatewayRef: {{name: {}}}\n  gatewayIp: eip1\n  customerGatewayRef: {{name: {}}}\n  style: static\n  peerSubnets: [172.16.0.0/16{extra}]\n  pskSecretRef: {{name: load-psk-{}, key: psk}}\n",
                Kind::Gateway.name(i),
                Kind::CustomerGateway.name(i),
                j % layout.psks_per_namespace
            )
        }
    };
    head + &body
}

/// Writes objects `0..n` of every kind into files of at most `batch` documents each
/// (gateways first, then customer gateways, then connections) and returns the paths.
pub fn write_batches(
    dir: &Path,
    layout: &Layout,
    n: usize,
    batch: usize,
    variant: usize,
) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for kind in Kind::ALL {
        for (b, start) in (0..n).step_by(batch.max(1)).enumerate() {
            let docs: Vec<String> = (start..(start + batch).min(n))
                .map(|i| object_yaml(kind, layout, i, variant))
                .collect();
            let path = dir.join(format!(
                "{}-v{variant}-{b:04}.yaml",
                kind.label().replace(' ', "")
            ));
            std::fs::write(&path, docs.join("---\n"))?;
            paths.push(path);
        }
    }
    Ok(paths)
}
