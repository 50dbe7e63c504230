#!/usr/bin/env bash
# Builds a real kube-apiserver from Debian bookworm's own `kubernetes` source package, once, and caches it by
# source version under /var/cache/neurocontroller-test/ (NEURO_TEST_CACHE overrides). Prints the binary's path.
#
#   test/support/kube-apiserver.sh           # build when not cached, print the path
#   test/support/kube-apiserver.sh --path    # print the path the cached binary has (built or not)
#   test/support/kube-apiserver.sh --cached  # exit 0 when the binary is already cached
#
# Why each step (measured on bookworm, Go 1.19; see docs/real-apiserver.md):
# - GOPATH mode (GO111MODULE=off): `-mod=vendor` fails with "updates to go.mod needed".
# - The source package lacks pkg/generated/openapi/zz_generated.openapi.go: generated with the vendored openapi-gen.
# - The vendored github.com/modern-go/reflect2 1.0.1 panics in map encoding under Go ≥ 1.18: swapped for Debian's 1.0.2.
# Concurrent builders (parallel test runs, CI steps) wait on one flock; the Go cache is thrown away afterwards.
set -euo pipefail

# The Debian source version of bookworm's kubernetes package; the cache key.
SRC_VERSION=${KUBE_SRC_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}
CACHE=${NEURO_TEST_CACHE:-/var/cache/neurocontroller-test}
BIN="$CACHE/kube-apiserver-$SRC_VERSION/kube-apiserver"

case "${1:-}" in
  --path) echo "$BIN"; exit 0 ;;
  --cached) [ -x "$BIN" ]; exit $? ;;
esac

[ -x "$BIN" ] && { echo "$BIN"; exit 0; }

mkdir -p "$CACHE"
exec 9>"$CACHE/kube-apiserver.lock"
flock 9
# Another builder may have finished while we waited.
[ -x "$BIN" ] && { echo "$BIN"; exit 0; }

log() { echo "[kube-apiserver] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
started=$(date +%s)

# A deb-src entry next to the deb one (same mirror, suites, components, key).
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding a deb-src entry (/etc/apt/sources.list.d/neurocontroller-test-src.sources)"
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
    as_root tee /etc/apt/sources.list.d/neurocontroller-test-src.sources >/dev/null
  as_root flock /tmp/apt.lock apt-get update -qq
fi

# Only the missing packages: naming installed ones would upgrade them and their libraries.
missing=()
command -v go >/dev/null || missing+=(golang-go)
command -v etcd >/dev/null || missing+=(etcd-server)
[ -e /usr/share/gocode/src/github.com/modern-go/reflect2/reflect2.go ] || missing+=(golang-github-modern-go-reflect2-dev)
command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /var/tmp/kube-apiserver-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
log "fetching the kubernetes $SRC_VERSION source package"
apt-get source --download-only -qq "kubernetes=$SRC_VERSION" >/dev/null
dpkg-source -x --skip-patches kubernetes_*.dsc tree >/dev/null 2>&1 || dpkg-source -x kubernetes_*.dsc tree >/dev/null
rm -f kubernetes_*

export GOPATH="$work/gopath" GOCACHE="$work/gocache" GO111MODULE=off GOFLAGS= CGO_ENABLED=0
mkdir -p "$GOPATH/src/k8s.io"
ln -s "$work/tree" "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"

# reflect2 1.0.1 → Debian's 1.0.2.
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s \
  vendor/github.com/modern-go/reflect2/

if [ ! -e pkg/generated/openapi/zz_generated.openapi.go ]; then
  log "generating pkg/generated/openapi (vendored openapi-gen)"
  go build -o "$work/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # The same inputs as Makefile.generated_files: every package tagged +k8s:openapi-gen=. vendor/k8s.io/* are
  # symlinks into staging/src (grep -r does not follow them), so staging/src/ and vendor/ both map to import paths;
  # code-generator's examples and the sample apiserver are not part of kube-apiserver.
  inputs=$(grep -rl --include='*.go' '+k8s:openapi-gen=' pkg cmd staging/src vendor 2>/dev/null |
    xargs -n1 dirname | sed -e 's#^staging/src/##' -e 's#^vendor/##' -e 's#^\(pkg\|cmd\)/#k8s.io/kubernetes/\1/#' |
    grep -v -e '/_examples/' -e '^k8s.io/sample-apiserver/' | sort -u | paste -sd, -)
  mkdir -p "$work/report"
  "$work/openapi-gen" --logtostderr=false --go-header-file hack/boilerplate/boilerplate.generatego.txt \
    --output-base "$GOPATH/src" --output-package k8s.io/kubernetes/pkg/generated/openapi \
    --output-file-base zz_generated.openapi --report-filename "$work/report/violations.report" \
    --input-dirs "$inputs"
  # Upstream's report of API rule violations for the same inputs is api/api-rules/violation_exceptions.list:
  # a different report means different inputs (e.g. missed packages), which would fail at server start.
  if ! diff -q <(sort "$work/report/violations.report") <(sort api/api-rules/violation_exceptions.list) >/dev/null; then
    log "openapi-gen's violations report differs from api/api-rules/violation_exceptions.list: wrong inputs"
    diff <(sort "$work/report/violations.report") <(sort api/api-rules/violation_exceptions.list) | head -20 >&2
    exit 1
  fi
fi

log "go build ./cmd/kube-apiserver (a few minutes on 2 cores)"
ver=k8s.io/kubernetes/vendor/k8s.io/component-base/version
upstream=${SRC_VERSION%%-*}; upstream=${upstream##*really}
go build -o "$work/kube-apiserver" -ldflags "-s -w -X $ver.gitVersion=v$upstream -X $ver.gitMajor=${upstream%%.*} \
-X $ver.gitMinor=$(echo "$upstream" | cut -d. -f2) -X $ver.gitTreeState=clean" ./cmd/kube-apiserver

mkdir -p "$(dirname "$BIN")"
cp "$work/kube-apiserver" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
log "built $BIN in $(( $(date +%s) - started ))s"
echo "$BIN"
