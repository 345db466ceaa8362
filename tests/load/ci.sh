#!/usr/bin/env bash
# Load, fault-soak and crash runs for CI (called by .ci/run; see docs/PERFORMANCE.md).
# Each run starts its own kube stand-in from ${VPN_SHARED_DIR:-../shared}/tools/kube-standin
# (or uses $VPN_LOAD_KUBECONFIG). Prints the tables; exits non-zero when an
# invariant fails or a performance target is missed (VPN_LOAD_TARGETS=report: only report).
#
# Sized so that the whole of .ci/run stays within 30 minutes on 2 cores (docs/PERFORMANCE.md
# has the step times); the 10,000-object and 100-iteration runs are documented manual runs.
# The operator and simulator run as release builds, as users run them (the Dockerfile builds
# release). Knobs (environment):
#   VPN_LOAD_SMALL=60         N of the run at default operator settings
#   VPN_LOAD_OPERATOR_BIN     a release build of the operator to use (else it is built here)
#   VPN_LOAD_LARGE=1000       N of the run over many accounts at default settings (0 to skip)
#   VPN_LOAD_ACCOUNTS=50      cloud accounts of that run (one namespace and project each; the
#                             documented run has 10,000 objects over 500)
#   VPN_LOAD_SOAK=100         N of the fault soak (20% of cloud calls fail)
#   VPN_LOAD_CRASH=4          crash-test iterations (3 kills each)
#
# What fails CI (docs/PERFORMANCE.md explains each):
#   - every invariant: convergence, one cloud resource per object, no orphans, nothing left
#     after delete-all (N=60, soak and crash runs), no secret in logs/Events/status/metrics,
#     crash and soak outcomes;
#   - reads at rest <= 1 per object per hour (both sizes);
#   - ACTIVE -> Ready p99 <= 2 s at N=60 with default settings, and during the N=1000
#     creation storm over many accounts;
#   - ACTIVE -> Ready p99 <= 5 s for gateways and for connections in the fault soak, whose
#     faults include calls held 31 s (`timeout`) and lost answers: a hung call holds up
#     nothing else;
#   - zero 429 answers at the default client rates (both sizes);
#   - memory: growth of steady RSS per object above the regression guard below;
#   - restart and failover at rest (N=60 run; restart also over the accounts of the large run;
#     tests/load/restart.rs): every object re-observed
#     <= 60 s after the new process / new leader starts, 0 cloud writes, <= 2 list calls per
#     kind per account, 0 status writes and no changed resourceVersion.
# Printed but not failing (docs/PERFORMANCE.md "What is not met"): the two-point estimate of
# steady RSS at 10,000 objects over 500 accounts (96 MiB), which from a one-account small run
# and a many-account large run mixes per-object and per-account growth.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
export VPN_SHARED_DIR="${VPN_SHARED_DIR:-$repo/../shared}"
small="${VPN_LOAD_SMALL:-60}"
large="${VPN_LOAD_LARGE:-1000}"
accounts="${VPN_LOAD_ACCOUNTS:-50}"
soak="${VPN_LOAD_SOAK:-100}"
crash="${VPN_LOAD_CRASH:-4}"
# Growth between the small run (one account) and 3,000 objects over 50 accounts: 9.0 KiB/object
# in the first run (one account to 3,000 objects: 5.1; 11.6-14.5 before the compact cache;
# docs/PERFORMANCE.md). Since the large run spreads over accounts, the slope carries each
# account's state too; the guard leaves room for noise and fails on a return to the old
# figures. The 96 MiB target itself is judged by the documented run at full size.
rss_guard="${VPN_LOAD_RSS_GUARD_KIB:-14}"
out="$(mktemp -d /tmp/vpn-load-ci.XXXXXX)"
step() { printf '\n==== load: %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
failures=()
run() {
  local name="$1"; shift
  local t0=$SECONDS
  if cargo test -q --test load -- "$@"; then
    echo "---- $name passed in $((SECONDS - t0))s"
  else
    echo "---- $name FAILED in $((SECONDS - t0))s"
    failures+=("$name")
  fi
}

# The rest window is two resync intervals: every object is re-observed twice, so the
# reads-at-rest figure is exact and is scaled to the default 10m interval (the harness says so).
resync=(--resync-interval 30s)
rest=60s

step "build (release: operator and simulator as users run them)"
if [ -z "${VPN_LOAD_OPERATOR_BIN:-}" ]; then
  cargo build -q --release --bin vpn-operator || exit 1
  export VPN_LOAD_OPERATOR_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/vpn-operator"
fi
[ -x "$VPN_LOAD_OPERATOR_BIN" ] || { echo "FATAL: $VPN_LOAD_OPERATOR_BIN is not an executable" >&2; exit 1; }
cargo test -q --no-run --test load || exit 1

step "load N=$small at default operator settings (resync shortened for the rest window), then restart and failover"
run "load N=$small" load --n "$small" --rest "$rest" --restart --failover --report-only rss --json "$out/small.json" -- "${resync[@]}"

if [ "$large" != "0" ]; then
  # Spread over many accounts as a platform team runs it: each account has its own client
  # limits (10 reads/s, 2 writes/s by default), so no raised rates are needed. The restart
  # checks the lists per kind per account. No delete-all: the stand-in took 215 s of the
  # 30-minute budget to take 3,000 objects away; deletion is checked by the other runs, and in
  # the object's own account by the account scenarios of the unit tests.
  step "load N=$large over $accounts accounts at default client rates, then restart"
  run "load N=$large x $accounts accounts" load --n "$large" --accounts "$accounts" --rest "$rest" --timeout 15m --restart --no-delete --json "$out/large.json" -- \
    "${resync[@]}"
  if [ -f "$out/small.json" ] && [ -f "$out/large.json" ]; then
    step "memory: two-point estimate at 10,000 objects over 500 accounts, and the regression guard"
    run "memory" memory "$out/small.json" "$out/large.json" --report-target --max-kib-per-object "$rss_guard"
  fi
fi

step "fault soak N=$soak: 20% of cloud calls fail (429, 5xx, VPN.0030, timeouts, lost responses)"
run "soak N=$soak" soak --n "$soak" --rest 20s --timeout 20m -- \
  --cloud-read-rate 50 --cloud-read-burst 50 --cloud-write-rate 20 --cloud-write-burst 20

step "crash test: $crash iterations, kill -9 during create, update and delete"
run "crash" crash --iterations "$crash" -- --pending-requeue 500ms

rm -rf "$out"
if [ ${#failures[@]} -gt 0 ]; then
  step "FAILED: ${failures[*]}"
  exit 1
fi
step "all load checks passed"
