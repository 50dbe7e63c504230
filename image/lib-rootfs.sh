# shellcheck shell=bash
# Stage 1 of the image build: a cached Debian bookworm arm64 rootfs made with
# `debootstrap --foreign` + a qemu-user-static second stage, plus the kernel and Raspberry Pi
# firmware packages downloaded once. Sourced by build-image.sh.

MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# What a node needs besides the base system: systemd as init, networking (wired: networkd,
# wireless: wpa_supplicant), ssh for Ansible, libbpf1 for the agent, firmware/kmod for the Pi.
ROOTFS_PACKAGES=systemd-sysv,udev,kmod,dbus,openssh-server,wpasupplicant,iproute2,iputils-ping,ca-certificates,libbpf1,initramfs-tools,zstd,python3,sudo,dosfstools,firmware-brcm80211,wireless-regdb,systemd-timesyncd
ROOTFS_COMPONENTS=main,non-free-firmware

log() { printf '[image %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }

enable_binfmt() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64
  fi
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "binfmt qemu-aarch64 not registered"; exit 1; }
}

# chroot with /proc, /sys and /dev available; undone on return.
in_chroot() {
  local root=$1; shift
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  local rc=0
  LC_ALL=C DEBIAN_FRONTEND=noninteractive chroot "$root" "$@" || rc=$?
  umount "$root/dev" "$root/proc"
  return $rc
}

# build_base_rootfs CACHE → CACHE/rootfs-arm64 (reused when CACHE/rootfs-arm64.ok exists)
build_base_rootfs() {
  local cache=$1 root=$1/rootfs-arm64
  if [ -f "$cache/rootfs-arm64.ok" ]; then
    log "cached base rootfs: $root"
    return
  fi
  rm -rf "$root"
  mkdir -p "$root"
  log "debootstrap --arch=arm64 --foreign $SUITE (first stage)"
  debootstrap --arch=arm64 --foreign --variant=minbase --components="$ROOTFS_COMPONENTS" \
    --include="$ROOTFS_PACKAGES" "$SUITE" "$root" "$MIRROR" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log"; exit 1; }
  cp /usr/bin/qemu-aarch64-static "$root/usr/bin/"
  # raspi-firmware's kernel hook must not run before the kernel exists, and no initramfs yet.
  log "second stage under qemu-aarch64-static (minutes)"
  LC_ALL=C chroot "$root" /debootstrap/debootstrap --second-stage >>"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log"; exit 1; }
  printf 'deb %s %s main non-free-firmware\ndeb http://deb.debian.org/debian-security %s-security main non-free-firmware\ndeb %s %s-updates main non-free-firmware\n' \
    "$MIRROR" "$SUITE" "$SUITE" "$MIRROR" "$SUITE" >"$root/etc/apt/sources.list"
  touch "$cache/rootfs-arm64.ok"
  log "base rootfs ready ($(du -sh "$root" | cut -f1))"
}

# fetch_kernel_debs CACHE → CACHE/debs/linux-image-*.deb (the arm64 kernel .deb, fetched once)
fetch_kernel_debs() {
  local cache=$1 debs=$1/debs
  if ls "$debs"/linux-image-*-arm64_*.deb >/dev/null 2>&1; then
    log "cached kernel package: $(basename "$(ls "$debs"/linux-image-*-arm64_*.deb | head -1)")"
    return
  fi
  mkdir -p "$debs"
  log "downloading linux-image-arm64 (resolved by the rootfs' apt)"
  local root=$cache/rootfs-arm64
  in_chroot "$root" apt-get update -qq
  local pkg
  pkg=$(in_chroot "$root" apt-cache depends linux-image-arm64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$pkg" ] || { log "cannot resolve the kernel package"; exit 1; }
  mkdir -p "$root/tmp/debs"
  in_chroot "$root" sh -c "cd /tmp/debs && apt-get download -q $pkg linux-image-arm64"
  mv "$root"/tmp/debs/*.deb "$debs/"
  rm -rf "$root/tmp/debs" "$root"/var/lib/apt/lists/*_Packages
  log "kernel package: $pkg"
}

# build_kernel_rootfs CACHE → CACHE/rootfs-arm64-kernel: the base plus the kernel (installed with
# INITRD=No so no initramfs is built per hook), raspi-firmware, networking extras, and ONE initramfs.
build_kernel_rootfs() {
  local cache=$1 root=$1/rootfs-arm64-kernel
  if [ -f "$cache/rootfs-arm64-kernel.ok" ]; then
    log "cached kernel rootfs: $root"
    return
  fi
  rm -rf "$root"
  log "copying the base rootfs"
  cp -a "$cache/rootfs-arm64" "$root"
  mkdir -p "$root/boot/firmware" "$root/tmp/debs"
  cp "$cache"/debs/*.deb "$root/tmp/debs/"
  # raspi-firmware's kernel hook writes cmdline.txt with this root= (see /etc/default/raspi-firmware).
  printf 'ROOTPART=LABEL=RASPIROOT\nCONSOLES="serial0,115200 tty1"\n' >"$root/etc/default/raspi-firmware"
  log "installing the kernel package (INITRD=No: no per-hook initramfs)"
  in_chroot "$root" env INITRD=No sh -c 'dpkg -i /tmp/debs/*.deb' >"$cache/kernel.log" 2>&1 \
    || { tail -20 "$cache/kernel.log"; exit 1; }
  log "installing raspi-firmware, systemd-resolved (apt, emulated)"
  in_chroot "$root" apt-get update -qq >>"$cache/kernel.log" 2>&1
  in_chroot "$root" env INITRD=No apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold raspi-firmware systemd-resolved \
    >>"$cache/kernel.log" 2>&1 || { tail -20 "$cache/kernel.log"; exit 1; }
  build_initramfs "$root" "$cache/kernel.log"
  rm -rf "$root/tmp/debs" "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
  [ -f "$root/boot/firmware/config.txt" ] || { log "raspi-firmware did not populate /boot/firmware"; exit 1; }
  touch "$cache/rootfs-arm64-kernel.ok"
  log "kernel rootfs ready"
}

# The one initramfs, built in the emulated chroot. MODULES=most (Debian's default) copies ~1500
# modules through emulated shell hooks (> 30 min here); for this build an explicit list of what
# finds the root filesystem on a Pi 3/4 (SD, USB) and on the QEMU virt test machine takes minutes.
# The list is removed afterwards, so kernel upgrades on the node itself use Debian's default again.
INITRAMFS_MODULES="ext4 mmc_block sdhci_iproc sdhci_pltfm bcm2835 bcm2835_dma pcie_brcmstb reset_raspberrypi
xhci_pci xhci_plat_hcd dwc2 usb_storage uas sd_mod virtio_blk virtio_pci virtio_mmio virtio_scsi"
build_initramfs() {
  local root=$1 logf=$2 kver
  kver=$(basename "$(ls -d "$root"/lib/modules/*-arm64 | head -1)")
  log "building the initramfs once for $kver (emulated, MODULES=list)"
  echo "MODULES=list" >"$root/etc/initramfs-tools/conf.d/zz-image-build.conf"
  cp "$root/etc/initramfs-tools/modules" "$root/etc/initramfs-tools/modules.orig"
  printf '%s\n' $INITRAMFS_MODULES >>"$root/etc/initramfs-tools/modules"
  in_chroot "$root" update-initramfs -c -k "$kver" >>"$logf" 2>&1 || { tail -20 "$logf"; exit 1; }
  rm "$root/etc/initramfs-tools/conf.d/zz-image-build.conf"
  mv "$root/etc/initramfs-tools/modules.orig" "$root/etc/initramfs-tools/modules"
  log "initramfs: $(du -h "$root/boot/initrd.img-$kver" | cut -f1)"
}
