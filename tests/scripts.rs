//! The scripts under `.ci/` and `tests/` look for cargo's builds where cargo puts them: under
//! `$CARGO_TARGET_DIR` when it is set, not always under `target/`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What `tests/delivery/run.sh --operator-bin` prints when run from `dir` with `env`.
fn delivery_operator_bin(dir: &Path, env: &[(&str, &str)]) -> PathBuf {
    let out = Command::new("bash")
        .arg(repo().join("tests/delivery/run.sh"))
        .arg("--operator-bin")
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("VPN_OPERATOR_BIN")
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{out:?}");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim_end())
}

#[test]
fn delivery_live_checks_find_the_binary_under_cargo_target_dir() {
    let caller = tempfile::tempdir().unwrap();
    let caller = caller.path().canonicalize().unwrap();
    let debug_bin = |dir: &Path| dir.join("debug").join("vpn-operator");
    assert_eq!(
        delivery_operator_bin(&caller, &[]),
        debug_bin(&repo().join("target"))
    );
    assert_eq!(
        delivery_operator_bin(&caller, &[("CARGO_TARGET_DIR", "/elsewhere/build")]),
        debug_bin(Path::new("/elsewhere/build"))
    );
    // Relative, as cargo takes it: from the directory it was run in.
    assert_eq!(
        delivery_operator_bin(&caller, &[("CARGO_TARGET_DIR", "build")]),
        debug_bin(&caller.join("build"))
    );
    assert_eq!(
        delivery_operator_bin(
            &caller,
            &[
                ("CARGO_TARGET_DIR", "/elsewhere/build"),
                ("VPN_OPERATOR_BIN", "/opt/vpn-operator")
            ]
        ),
        Path::new("/opt/vpn-operator")
    );
}

fn shell_scripts(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            shell_scripts(&path, found);
        } else if path.extension().is_some_and(|e| e == "sh") {
            found.push(path);
        }
    }
}

#[test]
fn no_script_assumes_the_target_directory() {
    let mut scripts = vec![repo().join(".ci/run")];
    shell_scripts(&repo().join("tests"), &mut scripts);
    assert!(scripts.len() >= 4, "{scripts:?}");
    let mut wrong = Vec::new();
    for script in &scripts {
        let text = std::fs::read_to_string(script).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            let names_target = ["/target", "target/debug", "target/release"]
                .iter()
                .any(|t| code.contains(t));
            if !code.starts_with('#') && names_target && !code.contains("CARGO_TARGET_DIR") {
                wrong.push(format!("{}:{}: {line}", script.display(), n + 1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "use ${{CARGO_TARGET_DIR:-$repo/target}} for cargo's output:\n{}",
        wrong.join("\n")
    );
}
