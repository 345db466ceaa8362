#!/usr/bin/env bash
# Runs every fuzz target for VPN_FUZZ_SECONDS (default 30) over a scratch copy of its corpus in
# fuzz/corpus/ (the repository's corpus is not changed), VPN_FUZZ_JOBS targets at a time.
# Needs the targets built: cargo fuzz build -s none --dev (VPN_FUZZ_PROFILE=debug, what CI runs)
# or cargo fuzz build -s none -a (VPN_FUZZ_PROFILE=release, the default; see docs/FUZZING.md).
# Prints executions per target; fails, with the crash input and the panic, on any crash.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${VPN_FUZZ_SECONDS:-30}"
jobs="${VPN_FUZZ_JOBS:-2}"
profile="${VPN_FUZZ_PROFILE:-release}"
bin="${VPN_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-target}}/x86_64-unknown-linux-gnu/$profile"
work="$(mktemp -d /tmp/vpn-fuzz.XXXXXX)"
targets=(cloud_decode sim_requests signer_roundtrip spec_bodies)
run() {
  local t="$1"
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp corpus/"$t"/* "$work/$t/corpus/"
  "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" >"$work/$t/log" 2>&1
}
pids=()
failed=0
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "FATAL: $bin/$t is not built" >&2; exit 1; }
  run "$t" & pids+=("$!:$t")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    p="${pids[0]}"; pids=("${pids[@]:1}")
    wait "${p%%:*}" || failed=1
  fi
done
for p in "${pids[@]}"; do wait "${p%%:*}" || failed=1; done
for t in "${targets[@]}"; do
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t/log" | grep -o '[0-9]*$' || true)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$work/$t/log" | tail -1 | tr -d '#' || true)
  crashes=$(find "$work/$t/artifacts" -type f | wc -l)
  printf '%-18s %10s executions in %ss, %s crash inputs\n' "$t" "${execs:-?}" "$seconds" "$crashes"
  if [ "$crashes" -gt 0 ]; then
    tail -n 40 "$work/$t/log" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] || { echo "FATAL: a fuzz target crashed (inputs and logs in $work)" >&2; exit 1; }
rm -rf "$work"
