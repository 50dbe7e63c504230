#!/usr/bin/env bash
# The one test command (npm test): installs what the suite needs, builds the binary the
# integration tests drive, type-checks and lints, runs every test, and ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

# Debian bookworm packages the suite needs, as command:package; only missing ones are installed.
need_apt=()
want() { # want CMD:PKG… — queue PKG when CMD is not on PATH
  local pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
  done
}
# Certificates, the arm64 binary under qemu-user, kustomize (Debian's kubectl is kubernetes-client).
want openssl:openssl zstd:zstd qemu-aarch64-static:qemu-user-static kubectl:kubernetes-client readelf:binutils
# The status page is tested in headless Chromium (test/integration/status-page-browser.test.ts, puppeteer-core).
want chromium:chromium
# Real servers and the eBPF toolchain: mosquitto for MQTT, clang + libbpf headers to rebuild the BPF
# object, libbpf1 to load it, bpftool to inspect it, python3 for the traced test child.
want mosquitto:mosquitto mosquitto_sub:mosquitto-clients mosquitto_pub:mosquitto-clients clang:clang \
  llvm-objdump:llvm bpftool:bpftool python3:python3
# The real kube-apiserver tier runs Debian's etcd beside it (test/support/real-apiserver.ts).
[ "${NEURO_REAL_API:-}" = 0 ] || want etcd:etcd-server
[ -e /usr/include/bpf/bpf_helpers.h ] || need_apt+=(libbpf-dev)
ls /usr/lib/*/libbpf.so.1 >/dev/null 2>&1 || need_apt+=(libbpf1)
# The arm64 binary runs under qemu-user with the cross glibc as its sysroot (-L /usr/aarch64-linux-gnu).
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need_apt+=(libc6-arm64-cross)
# Appliance tests (test/appliance/): systemd units booted in systemd-nspawn containers made with
# debootstrap, provisioned by Debian's Ansible (ansible-core + the collections package, which has
# community.docker's nsenter connection) and linted by ansible-lint; the budget bench pins with taskset.
want setpriv:util-linux runuser:util-linux unshare:util-linux systemd-analyze:systemd systemd-nspawn:systemd-container debootstrap:debootstrap nsenter:util-linux \
  taskset:util-linux ansible-playbook:ansible ansible-lint:ansible-lint
[ -d /usr/lib/python3/dist-packages/ansible_collections/community/docker ] || need_apt+=(ansible)
# The slow image test (NEURO_SLOW_TESTS=1, a separate CI step): image/build-image.sh's tools and the
# arm64 VM that boots the image.
if [ "${NEURO_SLOW_TESTS:-}" = 1 ]; then
  want qemu-system-aarch64:qemu-system-arm update-binfmts:binfmt-support mkfs.vfat:dosfstools mcopy:mtools \
    mdir:mtools sfdisk:fdisk mkfs.ext4:e2fsprogs flock:util-linux mmdebstrap:mmdebstrap
fi
mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | awk 'NF && !seen[$0]++')
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing ${need_apt[*]} (apt)"
    # One apt at a time: CI runs the image test's test/run.sh beside npm test's (.ci/run). Under the lock,
    # what the other one installed meanwhile is dropped from the list (naming an installed package upgrades it).
    # shellcheck disable=SC2016
    if ! flock /var/lock/neurocontroller-test-apt.lock bash -c '
      left=(); for p; do dpkg-query -W -f="\${db:Status-Abbrev}" "$p" 2>/dev/null | grep -q "^ii" || left+=("$p"); done
      [ ${#left[@]} -eq 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${left[@]}" >/dev/null; }' _ "${need_apt[@]}"; then
      echo "[test] apt-get install ${need_apt[*]} failed" >&2
      echo "0 passed, 1 failed"
      exit 1
    fi
  else
    echo "[test] missing ${need_apt[*]}: install them (apt-get install ${need_apt[*]}) or run as root" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/bun ]; then
  echo "[test] npm ci"
  npm ci --no-audit --no-fund >/dev/null || exit 1
fi

# The real kube-apiserver tier (docs/real-apiserver.md): Debian's kubernetes 1.20.2 built once and cached by source
# version under /var/cache/neurocontroller-test; the build runs only when it is not cached. NEURO_REAL_API=0 skips the tier.
if [ "${NEURO_REAL_API:-}" != 0 ] && ! bash test/support/kube-apiserver.sh --cached; then
  echo "[test] building kube-apiserver for the real API tier (once; cached afterwards)"
  bash test/support/kube-apiserver.sh >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
# Types and lint first: every error is printed with its file and line, and fails the run.
echo "[test] tsc --noEmit (types) and biome ci (format + lint, biome.json)"
tsc --noEmit -p . || { echo "[test] type errors above (file(line,col))" >&2; echo "0 passed, 1 failed"; exit 1; }
biome ci --colors=off . || { echo "[test] format or lint errors above (file:line:col; fix, or run: npx biome check --write .)" >&2; echo "0 passed, 1 failed"; exit 1; }

echo "[test] building the binaries (dist/: linux-x64 + linux-arm64, reused when sources are unchanged)"
bun scripts/build.ts --all --no-zst || { echo "0 passed, 1 failed"; exit 1; }

# NEURO_JUNIT_OUT: where to keep the JUnit report (.ci/run adds up the reports of its steps).
report=${NEURO_JUNIT_OUT:-$(mktemp -d)/junit.xml}
rm -f "$report"
bun test --timeout 120000 --reporter=junit --reporter-outfile="$report" "$@" 2>&1
status=$?

summary=$(bun test/support/junit-summary.ts "$report")
echo "$summary"
failed=$(echo "$summary" | tail -n 1 | sed -E 's/.* ([0-9]+) failed.*/\1/')
if [ "$status" -ne 0 ] || [ "$failed" != "0" ]; then exit 1; fi
