# shellcheck shell=bash
# Stages 1-2 of the image build: ONE mmdebstrap run makes the Debian bookworm arm64 root filesystem
# with the kernel, raspi-firmware and every package a node needs, plus the one initramfs. The result
# is cached under CACHE/rootfs-arm64-<key>, where <key> hashes everything that decides its content
# (package list, sources, initramfs modules, this file's build function): change the list and a new
# tree is built, the old one removed. Sourced by build-image.sh.
#
# Why it is fast on an x86 host (cold: minutes, was 30-40 with debootstrap): mmdebstrap resolves,
# downloads and unpacks the essential set with the host's own apt and dpkg; only maintainer scripts
# run under qemu-user. The expensive emulated steps are avoided rather than waited for:
#   - update-initramfs is diverted to a no-op while packages install (initramfs-tools' trigger and the
#     kernel's postinst hook would each build a full MODULES=most initramfs), then ONE initramfs is built
#     with an explicit module list;
#   - placeholder ssh host keys stop openssh-server's postinst from generating keys (emulated RSA), and
#     are deleted again: every node makes its own on its first boot;
#   - man pages and translations are not unpacked (no man-db trigger, less to copy).

MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm
# What a node needs besides the base system: systemd as init, networking (wired: networkd + resolved,
# wireless: wpa_supplicant), ssh for Ansible, libbpf1 for the agent, firmware/kmod for the Pi, the
# kernel + raspi-firmware, and mosquitto as the node's default (loopback) MQTT broker.
ROOTFS_PACKAGES=systemd-sysv,udev,kmod,dbus,openssh-server,wpasupplicant,iproute2,iputils-ping,ca-certificates,libbpf1,initramfs-tools,zstd,python3,sudo,dosfstools,firmware-brcm80211,wireless-regdb,systemd-timesyncd,systemd-resolved,linux-image-arm64,raspi-firmware,mosquitto
ROOTFS_COMPONENTS=main,non-free-firmware

# The one initramfs is built in the emulated chroot. MODULES=most (Debian's default) copies ~1500
# modules through emulated shell hooks (> 30 min here); an explicit list of what finds the root
# filesystem on a Pi 3/4 (SD, USB) and on the QEMU virt test machine takes about a minute.
# The list is removed afterwards, so kernel upgrades on the node itself use Debian's default again.
INITRAMFS_MODULES="ext4 mmc_block sdhci_iproc sdhci_pltfm bcm2835 bcm2835_dma pcie_brcmstb reset_raspberrypi
xhci_pci xhci_plat_hcd dwc2 usb_storage uas sd_mod virtio_blk virtio_pci virtio_mmio virtio_scsi"

log() { printf '[image %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }

enable_binfmt() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  # bookworm's qemu-user-static ships a systemd-binfmt entry (/usr/lib/binfmt.d); binfmt-support's
  # database may not know it (fresh machine, systemd-binfmt not run): register the entry directly.
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    if [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
      grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register || true
    fi
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
  fi
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "binfmt qemu-aarch64 not registered"; exit 1; }
}

# The sources the node's apt uses too (security and point-release updates included).
rootfs_sources() {
  printf 'deb %s %s main non-free-firmware\n' "$MIRROR" "$SUITE"
  printf 'deb %s %s-updates main non-free-firmware\n' "$MIRROR" "$SUITE"
  printf 'deb %s %s-security main non-free-firmware\n' "$SECURITY_MIRROR" "$SUITE"
}

# rootfs_key: the cache key (sha256 prefix) over everything that decides the tree's content.
rootfs_key() {
  { echo "$SUITE $ROOTFS_COMPONENTS $ROOTFS_PACKAGES"; echo "$INITRAMFS_MODULES"; rootfs_sources
    declare -f build_rootfs; } | sha256sum | cut -c1-16
}

# build_rootfs CACHE → prints CACHE/rootfs-arm64-<key> (built once; reused while the marker exists).
build_rootfs() {
  local cache=$1 key root
  key=$(rootfs_key)
  root=$cache/rootfs-arm64-$key
  if [ -f "$root.ok" ]; then
    log "cached rootfs: $root (key $key)"
    echo "$root"
    return
  fi
  # Trees of other package lists are stale: remove them (they are ~1 GB each).
  local old
  for old in "$cache"/rootfs-arm64*; do
    [ -e "$old" ] || continue
    [ "${old#"$root"}" = "$old" ] || continue
    log "removing stale cache entry $old"
    rm -rf "$old"
  done
  rm -rf "$root" "$root.ok"
  log "mmdebstrap --arch=arm64 $SUITE (key $key): packages unpacked by the host, maintainer scripts under qemu-user"
  local t0
  t0=$(date +%s)
  # Hooks run on the host with the tree as "$1"; "chroot $1" runs arm64 code under qemu-user.
  rootfs_sources | mmdebstrap --arch=arm64 --variant=minbase --components="$ROOTFS_COMPONENTS" \
    --include="$ROOTFS_PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' --dpkgopt='force-confold' \
    --essential-hook='mkdir -p "$1/etc/default" "$1/boot/firmware" "$1/etc/ssh"' \
    --essential-hook='printf "ROOTPART=LABEL=RASPIROOT\nCONSOLES=\"serial0,115200 tty1\"\n" >"$1/etc/default/raspi-firmware"' \
    --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
    --essential-hook='printf "#!/bin/sh\nexit 0\n" >"$1/usr/sbin/update-initramfs" && chmod 0755 "$1/usr/sbin/update-initramfs"' \
    --essential-hook='for t in rsa ecdsa ed25519; do echo placeholder >"$1/etc/ssh/ssh_host_${t}_key"; echo placeholder >"$1/etc/ssh/ssh_host_${t}_key.pub"; done' \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_* "$1/usr/sbin/update-initramfs"' \
    --customize-hook='chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs' \
    "$SUITE" "$root" - >"$cache/mmdebstrap.log" 2>&1 \
    || { tail -30 "$cache/mmdebstrap.log" >&2; exit 1; }
  log "mmdebstrap done in $(( $(date +%s) - t0 )) s ($(du -sh "$root" | cut -f1))"
  build_initramfs "$root" "$cache/mmdebstrap.log"
  [ -f "$root/boot/firmware/config.txt" ] || { log "raspi-firmware did not populate /boot/firmware"; exit 1; }
  touch "$root.ok"
  echo "$root"
}

# chroot with /proc and /dev available; undone on return.
in_chroot() {
  local root=$1; shift
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  local rc=0
  LC_ALL=C DEBIAN_FRONTEND=noninteractive chroot "$root" "$@" || rc=$?
  umount "$root/dev" "$root/proc"
  return $rc
}

# The one initramfs (emulated, MODULES=list); raspi-firmware's post-update hook then copies it, the
# kernel and the DTBs to /boot/firmware and writes config.txt/cmdline.txt.
build_initramfs() {
  local root=$1 logf=$2 kver t0
  t0=$(date +%s)
  kver=$(basename "$(ls -d "$root"/lib/modules/*-arm64 | head -1)")
  echo "MODULES=list" >"$root/etc/initramfs-tools/conf.d/zz-image-build.conf"
  cp "$root/etc/initramfs-tools/modules" "$root/etc/initramfs-tools/modules.orig"
  printf '%s\n' $INITRAMFS_MODULES >>"$root/etc/initramfs-tools/modules"
  in_chroot "$root" update-initramfs -c -k "$kver" >>"$logf" 2>&1 || { tail -20 "$logf" >&2; exit 1; }
  rm "$root/etc/initramfs-tools/conf.d/zz-image-build.conf"
  mv "$root/etc/initramfs-tools/modules.orig" "$root/etc/initramfs-tools/modules"
  log "initramfs for $kver in $(( $(date +%s) - t0 )) s: $(du -h "$root/boot/initrd.img-$kver" | cut -f1)"
}
