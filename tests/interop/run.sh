#!/usr/bin/env bash
# The strongSwan interop test (docs/PEER-CONFIG.md, "The interop test"): connections of every
# style, IKE version and algorithm programmed by the operator's reconcile against the simulator;
# each exported swanctl.conf loaded unchanged into a real strongSwan 5.9 daemon that negotiates
# with a cloud-side daemon built from the simulator's state, in network namespaces. Prints the
# interop table and its run time.
#
# Installs what it needs (Debian packages, idempotent: only what is missing; `apt-get update`
# only when an install fails without it), then runs the test, which `cargo test` alone leaves
# ignored. Needs root; skips (loudly) only where network namespaces or TUN are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

# libcharon-extra-plugins carries kernel-libipsec (userspace ESP: these machines have no kernel
# ESP); libstrongswan-standard-plugins (a Debian recommendation of the others, named so that
# --no-install-recommends keeps it) carries the gcm and openssl plugins: AES-GCM, the ECP groups,
# 3DES and MD5.
packages=(strongswan-swanctl charon-systemd libcharon-extra-plugins libstrongswan-standard-plugins iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } \
    || { echo "FATAL: cannot install ${missing[*]} with apt-get" >&2; exit 1; }
fi
dpkg-query -W -f '${Package} ${Version}\n' "${packages[@]}"

# The lib's test binary (built by `cargo test`; reused, not rebuilt).
exec cargo test --lib -- --ignored --exact --nocapture \
  controller::kinds::vpn_connection::peer_config::interop::exported_configurations_negotiate_with_a_real_strongswan_peer
