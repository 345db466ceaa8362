//! `vpn-operator plan` and `doctor`, the real binary against the API server and the simulator,
//! as a new user tries them: objects applied and Ready, then plans of the same, changed,
//! immutable-changed, new and invalid manifests; doctor with good and bad credentials. The
//! simulator's counters show no write made by either.
use std::time::Duration;

use crate::harness::{repo_path, Env, AK, PROJECT, SK};

const EXAMPLES: [&str; 4] = [
    "examples/psk-secret.yaml",
    "examples/vpngateway.yaml",
    "examples/customergateway.yaml",
    "examples/vpnconnection.yaml",
];

fn writes(env: &Env) -> u64 {
    let c = env.sim_admin("/_sim/counters");
    c["operations"].as_object().map_or(0, |ops| {
        ops.iter()
            .filter(|(op, _)| {
                ["Create", "Update", "Delete", "Batch"]
                    .iter()
                    .any(|p| op.starts_with(p))
            })
            .filter_map(|(_, o)| o["calls"].as_u64())
            .sum()
    })
}

fn text(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap()
}

pub fn plan_and_doctor_read_only_against_a_cluster() {
    let mut env = Env::start("plan", &["--delay", "1s"]);
    for f in EXAMPLES {
        env.apply_file(&repo_path(f));
    }
    for (kind, name) in [
        ("vpngateway", "edge-gateway"),
        ("customergateway", "office-router"),
        ("vpnconnection", "office-link"),
    ] {
        env.wait_condition(kind, name, "Ready", "True", Duration::from_secs(90));
    }
    env.stop_operator();
    let before = writes(&env);
    let dir = env.dir.path().join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, body: String| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p.to_string_lossy().into_owned()
    };
    let ns = env.namespace.clone();
    let plan = |files: &[String]| {
        let mut args = vec!["plan".to_string(), "-n".into(), ns.clone()];
        for f in files {
            args.extend(["-f".to_string(), f.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.command(&args)
    };
    let same: Vec<String> = EXAMPLES
        .iter()
        .map(|f| repo_path(f).to_string_lossy().into_owned())
        .collect();
    let (code, out) = plan(&same);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 unchanged"), "{out}");

    let renamed = text("examples/vpngateway.yaml")
        .replace("spec:\n  name: edge-gateway", "spec:\n  name: edge-gw-2")
        .replace("flavor: Professional1", "flavor: Professional2");
    let (code, out) = plan(&[write("gateway.yaml", renamed)]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("    name: edge-gateway → edge-gw-2\n"),
        "{out}"
    );
    assert!(
        out.contains("    flavor: Professional1 → Professional2\n"),
        "{out}"
    );

    let moved = text("examples/customergateway.yaml").replace("203.0.113.10", "203.0.113.99");
    let (code, out) = plan(&[write("cgw.yaml", moved)]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("office-router: replace required"), "{out}");
    assert!(
        out.contains("spec.idValue: Invalid value: \"object\": idValue is immutable"),
        "{out}"
    );

    let new =
        "apiVersion: vpn.hwcloud.dev/v1alpha1\nkind: CustomerGateway\nmetadata: {name: branch}\n\
               spec: {idType: ip, idValue: 203.0.113.20}\n";
    let (code, out) = plan(&[write("new.yaml", new.to_string())]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("branch: create"), "{out}");

    let (code, out) = plan(&[write(
        "bad.yaml",
        new.replace("203.0.113.20", "not-an-ip")
            .replace("ip,", "ipv9,"),
    )]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("invalid: spec.idType: Unsupported value: \"ipv9\""),
        "{out}"
    );

    let (code, out) = env.command(&["doctor"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cluster/crds         PASS"), "{out}");
    assert_eq!(
        writes(&env),
        before,
        "plan and doctor wrote nothing to the cloud"
    );

    // Namespace accounts, with the operator's account flags: none is required yet, so plan and
    // doctor fail as the operator would (AccountMissing) under --require-namespace-account; an
    // account Secret under the configured name passes both (the same project: no change).
    let required = [
        "--require-namespace-account",
        "--account-secret-name",
        "team-account",
    ];
    let plan_required = |files: &[String]| {
        let mut args = vec!["plan".to_string(), "-n".into(), ns.clone()];
        for f in files {
            args.extend(["-f".to_string(), f.clone()]);
        }
        args.extend(required.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.command(&args)
    };
    let doctor_required = || {
        let mut args = vec!["doctor", "--watch-namespaces", ns.as_str()];
        args.extend(required);
        env.command(&args)
    };
    let (code, out) = plan_required(&same);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the operator would not reconcile it (Synced=False AccountMissing)"),
        "{out}"
    );
    let (code, out) = doctor_required();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "namespace/account    FAIL   {ns}: 3 objects would get Synced=False AccountMissing"
        )),
        "{out}"
    );
    env.apply_secret(
        "team-account",
        &[
            ("region", "cn-north-4"),
            ("projectId", PROJECT),
            ("endpoint", env.sim_url.as_str()),
            ("accessKey", AK),
            ("secretKey", SK),
        ],
    );
    let (code, out) = plan_required(&same);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 unchanged"), "{out}");
    let (code, out) = doctor_required();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "namespace/account    PASS   {ns}: Secret {ns}/team-account, project {PROJECT}"
        )),
        "{out}"
    );
    assert!(!out.contains(SK), "no secret value: {out}");
    assert_eq!(writes(&env), before, "still nothing written to the cloud");

    // A wrong secret key in the credentials Secret: doctor names it.
    env.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: hwcloud-credentials}}\nstringData:\n  \
         accessKey: {AK}\n  secretKey: not-the-secret-key\n"
    ));
    let (code, out) = env.command(&["doctor"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the secret key is not the one of access key"),
        "{out}"
    );
}
