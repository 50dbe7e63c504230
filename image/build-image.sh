#!/usr/bin/env bash
# Builds a Raspberry Pi 3/4 bootable arm64 Debian bookworm image with NeuroController installed.
#
#   sudo image/build-image.sh [--out FILE] [--binary PATH] [--units DIR] [--cache DIR]
#                             [--overlay DIR] [--compress]
#   sudo image/build-image.sh --rootfs-only [--cache DIR]   (stage 1 only: fills the cache, e.g. ahead of time in CI)
#
# Stages:
#   1. the root filesystem: one mmdebstrap --arch=arm64 run (packages unpacked by the host, maintainer
#      scripts under qemu-aarch64-static, no emulated initramfs per hook), kernel + raspi-firmware + ONE
#      initramfs; cached in --cache (default /var/cache/neurocontroller/image) under a key that hashes
#      the package list and the recipe (image/lib-rootfs.sh)                    (~10 min once, cold)
#   2. per build: the binary, the units, the first-boot unit, the local broker's configuration (the
#      Ansible broker role's templates, image/broker-playbook.yml), fstab; then the disk image assembled
#      without loop devices: mkfs.vfat + mtools (boot), mkfs.ext4 -d (root), sfdisk + dd.  (~1 min)
# Pi 5 (bcm2712) is not supported by bookworm's kernel/firmware: use Raspberry Pi OS there.
set -euo pipefail
T0=$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT=$REPO/dist/neurocontroller-rpi-arm64.img
BINARY=$REPO/dist/neurocontroller-linux-arm64
UNITS=$REPO/systemd
CACHE=${NEURO_IMAGE_CACHE:-/var/cache/neurocontroller/image}
OVERLAY=""
COMPRESS=0
ROOTFS_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --binary) BINARY=$2; shift 2 ;;
    --units) UNITS=$2; shift 2 ;;
    --cache) CACHE=$2; shift 2 ;;
    --overlay) OVERLAY=$2; shift 2 ;;
    --compress) COMPRESS=1; shift ;;
    --rootfs-only) ROOTFS_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
# shellcheck source=lib-rootfs.sh
. "$HERE/lib-rootfs.sh"

[ "$(id -u)" = 0 ] || { echo "run as root (mmdebstrap, chroot)" >&2; exit 1; }
need=()
for t in mmdebstrap:mmdebstrap ansible-playbook:ansible-core qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support \
         mkfs.vfat:dosfstools mcopy:mtools mkfs.ext4:e2fsprogs sfdisk:fdisk zstd:zstd; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[ ${#need[@]} -eq 0 ] || { echo "missing tools: apt-get install ${need[*]}" >&2; exit 1; }
if [ "$ROOTFS_ONLY" = 1 ]; then
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  enable_binfmt
  build_rootfs "$CACHE"
  exit 0
fi
[ -x "$BINARY" ] || { echo "no arm64 binary at $BINARY (npm run build)" >&2; exit 1; }
for u in neurocontroller.service neurocontroller-agent.service neurocontroller.slice; do
  [ -f "$UNITS/$u" ] || { echo "missing unit $UNITS/$u" >&2; exit 1; }
done

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
enable_binfmt
CACHED_ROOT=$(build_rootfs "$CACHE")

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/neuro-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
log "stage 2: copying the cached rootfs"
cp -a "$CACHED_ROOT" "$ROOT"

log "installing the binary and units"
VERSION=${NEURO_VERSION:-$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$REPO/package.json" | head -1)}
install -D -m 0755 "$BINARY" "$ROOT/usr/local/lib/neurocontroller/neurocontroller-$VERSION"
ln -sfn "/usr/local/lib/neurocontroller/neurocontroller-$VERSION" "$ROOT/usr/local/bin/neurocontroller"
install -m 0644 "$UNITS"/neurocontroller.service "$UNITS"/neurocontroller-agent.service "$UNITS"/neurocontroller.slice \
  "$HERE/files/neurocontroller-firstboot.service" "$ROOT/etc/systemd/system/"
install -m 0755 "$HERE/files/neurocontroller-firstboot" "$ROOT/usr/local/sbin/"
install -D -m 0644 "$HERE/README.md" "$ROOT/usr/local/share/doc/neurocontroller/image-README.md"
install -d -m 0755 "$ROOT/etc/neurocontroller"
install -m 0600 /dev/null "$ROOT/etc/neurocontroller/neurocontroller.env"
log "local broker: the Ansible broker role's templates on 127.0.0.1 (image/broker-playbook.yml)"
ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=default ansible-playbook -i localhost, -c local "$HERE/broker-playbook.yml" \
  -e "image_root=$ROOT" >"$WORK/broker-playbook.log" 2>&1 || { cat "$WORK/broker-playbook.log" >&2; exit 1; }
chgrp "$(awk -F: '$1 == "mosquitto" { print $3 }' "$ROOT/etc/group")" "$ROOT/etc/mosquitto/neurocontroller.acl"
install -D -m 0644 "$HERE/../ansible/roles/neurocontroller_base/files/60-neurocontroller-perf.conf" "$ROOT/etc/sysctl.d/60-neurocontroller-perf.conf"
for u in neurocontroller.service neurocontroller-agent.service; do
  install -D -m 0644 "$HERE/files/local-broker.conf" "$ROOT/etc/systemd/system/$u.d/local-broker.conf"
done
install -m 0644 "$HERE/files/20-wired.network" "$HERE/files/30-wireless.network" "$ROOT/etc/systemd/network/"

log "node defaults: fstab, hostname, no shared ssh host keys / machine-id"
cat >"$ROOT/etc/fstab" <<'FSTAB'
LABEL=RASPIROOT  /               ext4  rw,noatime,errors=remount-ro  0 1
LABEL=RASPIFIRM  /boot/firmware  vfat  rw,noatime,umask=0077         0 2
FSTAB
echo neuro-node >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 neuro-node\n' >"$ROOT/etc/hosts"
rm -f "$ROOT"/etc/ssh/ssh_host_*
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
rm -f "$ROOT/usr/bin/qemu-aarch64-static"
ln -sfn /run/systemd/resolve/stub-resolv.conf "$ROOT/etc/resolv.conf"
for u in systemd-networkd.service systemd-resolved.service systemd-timesyncd.service ssh.service mosquitto.service \
         neurocontroller-firstboot.service neurocontroller.service neurocontroller-agent.service; do
  wants=multi-user.target.wants
  mkdir -p "$ROOT/etc/systemd/system/$wants"
  src=""
  for d in /etc/systemd/system /lib/systemd/system; do [ -f "$ROOT$d/$u" ] && { src=$ROOT$d/$u; break; }; done
  [ -n "$src" ] || { log "unit $u not found"; exit 1; }
  ln -sfn "${src#"$ROOT"}" "$ROOT/etc/systemd/system/$wants/$u"
done
if [ -n "$OVERLAY" ]; then
  log "overlay: $OVERLAY"
  cp -a "$OVERLAY"/. "$ROOT"/
fi

# --- the disk: [1 MiB gap][FAT32 boot, 256 MiB][ext4 root] on an MBR label (what the Pi ROM reads)
BOOT_MB=256
ROOT_MB=$(( $(du -sm --exclude=./boot/firmware "$ROOT" | cut -f1) * 13 / 10 + 256 ))
log "boot partition: mkfs.vfat + mcopy ($BOOT_MB MiB)"
mkfs.vfat -F 32 -n RASPIFIRM -C "$WORK/boot.img" $(( BOOT_MB * 1024 )) >/dev/null
mcopy -s -i "$WORK/boot.img" "$ROOT"/boot/firmware/* ::/
rm -rf "${ROOT:?}"/boot/firmware/*
log "root partition: mkfs.ext4 -d ($ROOT_MB MiB)"
mkfs.ext4 -q -L RASPIROOT -d "$ROOT" "$WORK/root.img" "${ROOT_MB}M"

mkdir -p "$(dirname "$OUT")"
TOTAL_MB=$(( 1 + BOOT_MB + ROOT_MB ))
rm -f "$OUT"
truncate -s "${TOTAL_MB}M" "$OUT"
sfdisk --quiet "$OUT" <<SFDISK
label: dos
start=1MiB, size=${BOOT_MB}MiB, type=c, bootable
start=$(( 1 + BOOT_MB ))MiB, type=83
SFDISK
dd if="$WORK/boot.img" of="$OUT" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.img" of="$OUT" bs=1M seek=$(( 1 + BOOT_MB )) conv=notrunc,sparse status=none
log "image: $OUT ($TOTAL_MB MiB, version $VERSION)"
if [ "$COMPRESS" = 1 ]; then
  zstd -q -T0 -f -10 "$OUT" -o "$OUT.zst"
  log "compressed: $OUT.zst ($(du -h "$OUT.zst" | cut -f1))"
fi
log "done in $(( $(date +%s) - T0 )) s"
