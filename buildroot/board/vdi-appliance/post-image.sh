#!/usr/bin/env bash
# Buildroot post-image: a hybrid BIOS + UEFI ISO from the kernel and the
# whole root filesystem as an initramfs (a live system in memory; this image
# has no live-boot, so the disk installer of the Debian image is not in it).
# Needs grub-mkrescue on the build host (Debian: grub-common, grub-pc-bin,
# grub-efi-amd64-bin) plus Buildroot's host xorriso and mtools.
set -euo pipefail
images=${BINARIES_DIR:?}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$images/bzImage" "$stage/boot/bzImage"
cp "$images/rootfs.cpio.zst" "$stage/boot/rootfs.cpio.zst"
cp "$BR2_EXTERNAL_VDI_APPLIANCE_PATH/board/vdi-appliance/grub.cfg" "$stage/boot/grub/grub.cfg"
PATH="$HOST_DIR/bin:$PATH" grub-mkrescue -o "$images/vdi-appliance.iso" "$stage" -- -volid VDI_APPLIANCE
