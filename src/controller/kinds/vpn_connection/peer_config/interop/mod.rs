//! The exported configuration against a real IPsec implementation: the operator's own
//! reconciles (cluster-free tier: simulator in-process, Kubernetes in memory) program
//! connections of every style, IKE version and algorithm; each exported `swanctl.conf` is
//! loaded unchanged into an on-premises strongSwan daemon, and the cloud side is a second
//! daemon configured from the simulator's admin API state by independent code
//! ([`cloud_side`]). The IKE SA and CHILD SAs must come up and UDP must pass between the inner
//! subnets; a rotated key must replace the old one; a cloud that changed its proposal must
//! answer NO_PROPOSAL_CHOSEN.
//!
//! Needs root, network namespaces, TUN and strongSwan 5.9 (`tests/interop/run.sh` installs it
//! and runs this test; `.ci/run` calls that). Ignored by a plain `cargo test`; it skips, loudly,
//! only where network namespaces or TUN are missing.
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde_json::{json, Value};

use crate::controller::runtime::testing::{World, NS, PROJECT};
use crate::crd::{CustomerGateway, VpnConnection, VpnGateway};

mod cases;
mod cloud_side;
mod strongswan;

use cases::{Case, Expect, CASES};
use cloud_side::{key_held, CloudView};
use strongswan::{udp_round_trip, Addresses, Pair};

const GATEWAY: &str = include_str!("../../../../../../examples/vpngateway.yaml");

/// The key of case `i`, and the one it is rotated to. The first has every special character
/// the API allows (the export must quote it right).
fn key(i: usize, rotated: bool) -> String {
    match (i, rotated) {
        (0, false) => "Ab1~!@#$%^()-_+={ },./:;".into(),
        (_, false) => format!("Interop-Psk-{i:02}"),
        (_, true) => format!("Rotated-Psk-{i:02}"),
    }
}

/// A case after the operator exported it: what both daemons are given.
struct Prepared {
    index: usize,
    case: &'static Case,
    /// The Secret's swanctl.conf, as written.
    exported: String,
    /// Its peer-config.json.
    json: Value,
    cloud_conf: String,
    addresses: Option<Addresses>,
    /// (on-premises inner host, cloud inner host) per child, in child order.
    flows: Vec<(IpAddr, IpAddr)>,
}

/// What one case showed.
struct Outcome {
    name: &'static str,
    /// Style, IKE version, IKE and ESP algorithms (Huawei values, as exported).
    columns: [String; 4],
    result: String,
    as_expected: bool,
    took: Duration,
}

/// The table's columns for an exported configuration.
fn columns(j: &Value) -> [String; 4] {
    let v = |x: &Value| x.as_str().unwrap_or("-").to_string();
    let ike = &j["ike"];
    let ipsec = &j["ipsec"];
    [
        v(&j["connection"]["style"]),
        v(&ike["version"]),
        format!(
            "{}/{}/{}",
            v(&ike["encryption"]["huawei"]),
            v(&ike["authentication"]["huawei"]),
            v(&ike["dhGroup"]["huawei"])
        ),
        format!(
            "{}/{}/pfs {}",
            v(&ipsec["encryption"]["huawei"]),
            v(&ipsec["authentication"]["huawei"]),
            v(&ipsec["pfs"]["huawei"])
        ),
    ]
}

/// An interface address (`169.254.1.2/30`) itself; a subnet's (`192.168.0.0/24`) first host.
fn host(cidr: &str) -> IpAddr {
    let net: IpNet = cidr.parse().unwrap_or_else(|e| panic!("{cidr}: {e}"));
    match net.hosts().next() {
        Some(h) if net.addr() == net.network() => h,
        _ => net.addr(),
    }
}

fn secret_text(w: &World, name: &str, key: &str) -> String {
    let s = w
        .kube()
        .secret_object(NS, name)
        .unwrap_or_else(|| panic!("Secret {name} was not written"));
    String::from_utf8(s.data.get(key).cloned().unwrap_or_default()).expect("UTF-8")
}

/// Applies the gateway, and per case a customer gateway, a key and the connection; reconciles
/// until every connection is Ready and its peer Secret written.
async fn program(w: &World) {
    w.apply_yaml::<VpnGateway>(GATEWAY);
    w.ready::<VpnGateway>("edge-gateway").await;
    for (i, case) in CASES.iter().enumerate() {
        let cgw = format!("cgw-{i}");
        w.apply_json::<CustomerGateway>(json!({
            "metadata": {"name": cgw},
            "spec": {"idType": "ip", "idValue": format!("203.0.113.{}", 20 + i), "bgpAsn": 65000 + i},
        }));
        w.ready::<CustomerGateway>(&cgw).await;
        w.put_secret(&format!("psk-{i}"), &[("psk", &key(i, false))]);
        w.apply_json::<VpnConnection>(case.connection(i));
        w.ready::<VpnConnection>(case.name).await;
        w.until::<VpnConnection>(case.name, Duration::from_secs(1), 5, |c| {
            c.status.as_ref().is_some_and(|s| s.peer_config.is_some())
        })
        .await;
    }
}

fn connection_id(w: &World, name: &str) -> String {
    w.get::<VpnConnection>(name)
        .status
        .and_then(|s| s.cloud_id)
        .expect("a cloud id")
}

/// Reads what the operator exported and what the simulator holds, and applies a case's
/// deliberate change of the cloud (after the export).
async fn prepare(w: &World) -> Vec<Prepared> {
    for case in CASES.iter().filter(|c| c.cloud_change.is_some()) {
        let id = connection_id(w, case.name);
        let path = format!("/projects/{PROJECT}/vpn-connections/{id}");
        w.admin(
            "PATCH",
            &path,
            case.cloud_change.clone().unwrap_or_default(),
        )
        .await;
    }
    let project = w
        .admin("GET", &format!("/projects/{PROJECT}"), Value::Null)
        .await;
    let mut out = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let peer = format!("peer-{i}");
        let exported = secret_text(w, &peer, "swanctl.conf");
        let json: Value =
            serde_json::from_str(&secret_text(w, &peer, "peer-config.json")).expect("JSON");
        let id = connection_id(w, case.name);
        let view = CloudView {
            project: &project,
            connection_id: &id,
        };
        let (k0, k1) = (key(i, false), key(i, true));
        let psk = key_held(&view, &[&k0, &k1]);
        let cloud_conf = cloud_side::swanctl_conf(&view, psk);
        let (mut addresses, mut flows) = (None, Vec::new());
        if case.expect != Expect::NotExported {
            let conn = view.connection();
            let gw = project["vpn_gateways"][0]["vpn_gateway"].clone();
            let (pairs, route_based) = cloud_side::selectors(&conn, &gw);
            let hosts = |k: &str| host(conn[k].as_str().unwrap_or_default());
            flows = match route_based {
                true => vec![(hosts("tunnel_peer_address"), hosts("tunnel_local_address"))],
                false => pairs.iter().map(|(c, p)| (host(p), host(c))).collect(),
            };
            let cgw_ip = format!("203.0.113.{}", 20 + i);
            addresses = Some(Addresses {
                cloud: view.gateway_address().parse().expect("an address"),
                onprem: cgw_ip.parse().expect("an address"),
                cloud_inner: flows.iter().map(|f| f.1.to_string()).collect(),
                onprem_inner: flows.iter().map(|f| f.0.to_string()).collect(),
            });
        }
        out.push(Prepared {
            index: i,
            case,
            exported,
            json,
            cloud_conf,
            addresses,
            flows,
        });
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("a directory");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("a file");
    p
}

/// The children of a case's exported connection, in order (`<connection>-<n>`).
fn children(p: &Prepared) -> Vec<String> {
    let n = p.json["trafficSelectors"].as_array().map_or(0, Vec::len);
    let conn = super::swanctl::section_name(p.case.name);
    (1..=n).map(|i| format!("{conn}-{i}")).collect()
}

/// Brings the tunnel up the way the case says and checks it: IKE and CHILD SAs, PFS on a
/// rekey, UDP through every child. `Err`: what went wrong (or the expected failure's text).
fn negotiate(pair: &Pair, p: &Prepared) -> Result<String, String> {
    let kids = children(p);
    for (n, child) in kids.iter().enumerate() {
        let (ok, said) = match p.case.cloud_initiates {
            true => pair.cloud.initiate(&format!("cloud-{}", n + 1)),
            false => pair.onprem.initiate(child),
        };
        if !ok {
            return Err(said);
        }
    }
    let sas = pair.onprem.sas();
    if !(sas.contains("state=ESTABLISHED") && sas.contains("state=INSTALLED")) {
        return Err(format!("not established: {sas}"));
    }
    let pfs = p.json["ipsec"]["pfs"]["huawei"] != "disable";
    if pfs {
        if p.json["ike"]["version"] == "v2" {
            // IKEv2's first CHILD SA has no key exchange: a rekey shows the PFS group.
            let (ok, said) = pair.onprem.swanctl(&["--rekey", "--child", &kids[0]]);
            if !ok {
                return Err(format!("rekey: {said}"));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sas = pair.onprem.sas();
            let children = sas.split_once("child-sas").map_or("", |x| x.1);
            if children.contains("state=INSTALLED") && children.contains("dh-group=") {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("no CHILD SA with the PFS group: {sas}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    for (from, to) in &p.flows {
        if !udp_round_trip(pair, *from, *to) {
            return Err(format!("UDP {from} -> {to} did not come back"));
        }
    }
    let who = if p.case.cloud_initiates {
        "cloud"
    } else {
        "device"
    };
    Ok(format!(
        "ESTABLISHED ({who} initiated), {} CHILD SA{}{}, UDP ok",
        kids.len(),
        if kids.len() == 1 { "" } else { "s" },
        if pfs { ", PFS on rekey" } else { "" }
    ))
}

/// Runs one case in its own pair of namespaces; the pair stays up for a later step.
fn run_case(p: &Prepared, work: &Path, tag: &str) -> (Outcome, Option<Pair>) {
    let started = Instant::now();
    let name = p.case.name;
    let outcome = |result: String, as_expected: bool| Outcome {
        name,
        columns: columns(&p.json),
        result,
        as_expected,
        took: started.elapsed(),
    };
    let Some(addresses) = &p.addresses else {
        let not_usable = p.exported.contains("NOT USABLE") && !p.exported.contains("connections {");
        let why = p.json["notes"][0].as_str().unwrap_or_default().to_string();
        return (outcome(format!("not exported: {why}"), not_usable), None);
    };
    let dir = work.join(name);
    let pair = Pair::new(&format!("{tag}{}", p.index), &dir, addresses);
    pair.cloud.load(&write(&dir, "cloud.conf", &p.cloud_conf));
    // The exported file, unchanged.
    pair.onprem.load(&write(&dir, "swanctl.conf", &p.exported));
    let result = negotiate(&pair, p);
    let (text, ok) = match (&p.case.expect, result) {
        (Expect::Established, Ok(s)) => (s, true),
        (Expect::NoProposalChosen, Err(e)) if e.contains("NO_PROPOSAL_CHOSEN") => (
            "NO_PROPOSAL_CHOSEN (expected: the cloud changed its proposal)".into(),
            true,
        ),
        (_, Ok(s)) => (format!("{s} (expected a failure)"), false),
        (_, Err(e)) => {
            let log = pair.onprem.log();
            let tail: Vec<&str> = log.lines().rev().take(25).collect();
            eprintln!(
                "---- {name}: {e}\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            (
                format!("FAILED: {}", e.lines().last().unwrap_or_default()),
                false,
            )
        }
    };
    (outcome(text, ok), Some(pair))
}

mod rotation;

fn print_table(rows: &[Outcome], total: Duration) {
    println!("\ninterop: exported swanctl.conf (on-premises) against a strongSwan cloud side");
    println!(
        "{:<34} {:<6} {:<3} {:<32} {:<37} result",
        "case", "style", "IKE", "IKE (enc/auth/DH)", "IPsec (enc/auth/PFS)"
    );
    for r in rows {
        let [style, ike, ikep, espp] = &r.columns;
        println!(
            "{:<34} {:<6} {:<3} {:<32} {:<37} {} [{:.1}s]{}",
            r.name,
            style,
            ike,
            ikep,
            espp,
            r.result,
            r.took.as_secs_f64(),
            if r.as_expected {
                ""
            } else {
                "  <-- NOT AS EXPECTED"
            }
        );
    }
    println!(
        "interop: {} rows, {} as expected; run time {:.1} s",
        rows.len(),
        rows.iter().filter(|r| r.as_expected).count(),
        total.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, network namespaces, TUN and strongSwan 5.9: tests/interop/run.sh"]
async fn exported_configurations_negotiate_with_a_real_strongswan_peer() {
    let started = Instant::now();
    if let Err(why) = strongswan::preflight() {
        eprintln!(
            "\n{0}\nSKIPPED: the strongSwan interop test cannot run here: {why}\n{0}\n",
            "!".repeat(78)
        );
        return;
    }
    let w = World::start().await;
    program(&w).await;
    let prepared = prepare(&w).await;
    let work = tempfile::tempdir().expect("a work directory");
    let tag = format!("hv{:04}", std::process::id() % 10_000);
    let (mut rows, mut pairs) = (Vec::new(), Vec::new());
    // Every case in its own namespaces, all at once.
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = prepared
                .iter()
                .map(|p| s.spawn(|| run_case(p, work.path(), &tag)))
                .collect();
            for h in handles {
                let (row, pair) = h.join().expect("a case thread");
                rows.push(row);
                pairs.push(pair);
            }
        })
    });
    let i = CASES
        .iter()
        .position(|c| c.rotate)
        .expect("a rotation case");
    let pair = pairs[i].take().expect("the rotated case's daemons");
    rows.push(rotation::rotate(&w, &prepared[i], pair, work.path()).await);
    drop(pairs);
    print_table(&rows, started.elapsed());
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| !r.as_expected)
        .map(|r| r.name)
        .collect();
    assert!(failed.is_empty(), "not as expected: {failed:?}");
}
