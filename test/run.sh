#!/usr/bin/env bash
# The one test command (npm test): installs what the suite needs, builds the binary the
# integration tests drive, runs every test, and ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

need_apt=()
for pair in openssl:openssl zstd:zstd qemu-aarch64-static:qemu-user-static debootstrap:debootstrap systemd-nspawn:systemd-container kubectl:kubectl; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# Real servers and the eBPF toolchain: mosquitto for MQTT, clang + libbpf headers to rebuild the BPF
# object, libbpf1 to load it, python3 for the traced test child.
for pair in mosquitto:mosquitto mosquitto_sub:mosquitto-clients clang:clang llvm-objdump:llvm python3:python3; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
[ -e /usr/include/bpf/bpf_helpers.h ] || need_apt+=(libbpf-dev)
ls /usr/lib/*/libbpf.so.1 >/dev/null 2>&1 || need_apt+=(libbpf1)
# The arm64 binary runs under qemu-user with the cross glibc as its sysroot (-L /usr/aarch64-linux-gnu).
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need_apt+=(libc6-arm64-cross)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing ${need_apt[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "[test] missing ${need_apt[*]}: install them (apt-get install ${need_apt[*]}) or run as root" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/bun ]; then
  echo "[test] npm ci"
  npm ci --no-audit --no-fund >/dev/null || exit 1
fi

echo "[test] building the binaries (dist/: linux-x64 + linux-arm64, reused when sources are unchanged)"
bun scripts/build.ts --all --no-zst || { echo "0 passed, 1 failed"; exit 1; }

report=$(mktemp -d)/junit.xml
bun test --timeout 120000 --reporter=junit --reporter-outfile="$report" "$@" 2>&1
status=$?

summary=$(bun test/support/junit-summary.ts "$report")
echo "$summary"
failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/')
if [ "$status" -ne 0 ] || [ "$failed" != "0" ]; then exit 1; fi
