#!/usr/bin/env bash
# image/build.sh — `make image`: the appliance ISO, vdi-appliance-<version>.iso.
#
# 1. The Debian bookworm root filesystem (image/base.sh, mmdebstrap), cached
#    in $IMAGE_CACHE as base-<hash of base.sh>.tar: rebuilt only when the
#    package list or its hooks change.
# 2. Our files: `make install-files` into it (binary, units, tmpfiles,
#    scripts, config), then image/overlay/ (networkd, fstab, hostname), the
#    image's config (data on /data, networkd told about our links), units
#    enabled.
# 3. squashfs (zstd) + the kernel and initrd + image/grub.cfg, made into a
#    hybrid BIOS + UEFI ISO by grub-mkrescue.
# Needs root (the root filesystem has root-owned files and device nodes) and
# the packages `make deps-image` installs. Prints each step's time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
OUT=${IMAGE_OUT:-$REPO/target/image}
CACHE=${IMAGE_CACHE:-/var/cache/vdi-appliance-image}
ISO=$OUT/vdi-appliance-$VERSION.iso
BIN=${BIN:-$REPO/target/release/vdi-appliance}
[ "$(id -u)" = 0 ] || { echo "image/build.sh: run as root" >&2; exit 1; }
[ -x "$BIN" ] || { echo "image/build.sh: $BIN is missing: make build first" >&2; exit 1; }

T0=$(date +%s.%N)
step_start=$T0
step() { # step NAME — prints the time of the step that just ended
    local now; now=$(date +%s.%N)
    printf 'image: %-28s %6.1f s\n' "$1" "$(awk "BEGIN {print $now - $step_start}")"
    step_start=$now
}

mkdir -p "$OUT" "$CACHE"
key=$(sha256sum image/base.sh | cut -c1-16)
base=$CACHE/base-$key.tar
# A usable base is a regular tar file holding a Debian root with a kernel;
# anything else in the cache (a directory, a truncated file) is built anew.
base_ok() { # FILE
    [ -f "$1" ] && [ ! -L "$1" ] && [ -s "$1" ] || return 1
    local list
    list=$(tar -tf "$1" 2>/dev/null) || return 1
    grep -qx './etc/debian_version' <<<"$list" && grep -q '^\./boot/vmlinuz-' <<<"$list"
}
if ! base_ok "$base"; then
    [ ! -e "$base" ] || echo "image: the cached $base is not a usable root filesystem tar; building it again"
    echo "image: building the Debian root filesystem (cache: $base)"
    rm -rf "$base" "$base.part"
    bash image/base.sh "$base.part" > "$OUT/base.log" 2>&1 || { tail -n 40 "$OUT/base.log"; exit 1; }
    base_ok "$base.part" || { echo "image: image/base.sh wrote no usable root filesystem tar at $base.part" >&2; exit 1; }
    mv "$base.part" "$base"
    # Older bases are of no use any more.
    find "$CACHE" -name 'base-*.tar' ! -name "base-$key.tar" -exec rm -rf {} +
    step "root filesystem (mmdebstrap)"
else
    step "root filesystem (cached, verified)"
fi

rootfs=$OUT/rootfs
rm -rf "$rootfs" "$OUT/stage"
mkdir -p "$rootfs" "$OUT/stage/live" "$OUT/stage/boot/grub"
tar -xf "$base" -C "$rootfs" --numeric-owner
make --no-print-directory -s install-files DESTDIR="$rootfs" BIN="$BIN" \
    DATA_DIR=/data/vdi-appliance NETWORKD_DIR=/etc/systemd/network
cp -a image/overlay/. "$rootfs/"
grep -q '^data_dir = "/data/vdi-appliance"' "$rootfs/etc/vdi-appliance/config.toml"
grep -q '^networkd_dir = "/etc/systemd/network"' "$rootfs/etc/vdi-appliance/config.toml"
mkdir -p "$rootfs/data"
systemctl --root="$rootfs" enable --quiet systemd-networkd.service vdi-appliance.service \
    vdi-appliance-console.service vdi-appliance-firstboot.service vdi-appliance-install.service \
    vdi-ssh-hostkeys.service
# No questions at the console on a first boot.
systemctl --root="$rootfs" mask --quiet systemd-firstboot.service
echo "vdi-appliance $VERSION (image built $(date -u +%Y-%m-%d))" > "$rootfs/etc/vdi-appliance/image-version"
step "our files and units"

kernel=$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -n1)
cp "$kernel" "$OUT/stage/live/vmlinuz"
cp "$rootfs/boot/initrd.img-${kernel##*/vmlinuz-}" "$OUT/stage/live/initrd.img"
mksquashfs "$rootfs" "$OUT/stage/live/filesystem.squashfs" -comp zstd -Xcompression-level 3 \
    -e boot -noappend -no-progress > "$OUT/mksquashfs.log"
step "squashfs"
cp image/grub.cfg "$OUT/stage/boot/grub/grub.cfg"
grub-mkrescue -o "$ISO.part" "$OUT/stage" -- -volid VDI_APPLIANCE > "$OUT/mkrescue.log" 2>&1 || { cat "$OUT/mkrescue.log"; exit 1; }
mv "$ISO.part" "$ISO"
rm -rf "$rootfs"
step "ISO (grub-mkrescue)"
size=$(stat -c %s "$ISO")
printf 'image: %s: %d MiB, built in %.0f s\n' "$ISO" $((size / 1048576)) "$(awk "BEGIN {print $(date +%s.%N) - $T0}")"
