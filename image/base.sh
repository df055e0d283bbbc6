#!/usr/bin/env bash
# image/base.sh OUT.tar — the appliance's Debian bookworm root filesystem
# (everything but our own files), as a tar. The packages and hooks below are
# the cache key: image/build.sh reuses OUT.tar while this file is unchanged.
set -euo pipefail
out=$1
MIRROR=${MIRROR:-http://deb.debian.org/debian}

# systemd + udev + dbus: the init system; iproute2/ifenslave/ethtool: looking
# at the network by hand; openssh-server: joining nodes (issue 9) and admin
# access; qemu-system-x86 + qemu-utils + libvirt-daemon-system: desktops;
# live-boot + initramfs-tools: booting from the ISO; grub for both firmwares,
# fdisk, e2fsprogs, dosfstools, squashfs-tools: installing to a disk.
PKGS=systemd-sysv,udev,dbus,kmod,procps,iproute2,ifenslave,ethtool,openssh-server,ca-certificates
PKGS=$PKGS,qemu-system-x86,qemu-utils,libvirt-daemon-system,libvirt-clients,dnsmasq-base
PKGS=$PKGS,live-boot,initramfs-tools,zstd,grub-pc-bin,grub-efi-amd64-bin,grub2-common
PKGS=$PKGS,fdisk,e2fsprogs,dosfstools,squashfs-tools,util-linux,less

# --format=tar: mmdebstrap would otherwise guess the format from OUT's name
# (a `.part` suffix made it write a directory).
mmdebstrap --mode=root --variant=minbase --format=tar --include="$PKGS" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='echo "COMPRESS=zstd" > "$1/etc/initramfs-tools/conf.d/compress"' \
  --customize-hook='chroot "$1" apt-get install -y -q --no-install-recommends linux-image-amd64' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$out" "$MIRROR"
