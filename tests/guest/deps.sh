#!/usr/bin/env bash
# tests/guest/deps.sh — install what the TCG guest harness (run.sh) needs.
#
# Idempotent: does nothing when every package is already installed.
# Otherwise runs `apt-get update` once, then installs the missing packages
# (retrying once: an apt hook on these machines may delete downloaded .debs
# between dpkg runs).
#
# qemu-utils quirk: some machines carry qemu-utils 10.x from bookworm-backports,
# which conflicts with bookworm's qemu-system-x86 7.2. When that is the case we
# ask for qemu-utils at the version that matches qemu-system-x86's candidate
# (a downgrade), which apt then resolves cleanly.
#
# Usage: bash tests/guest/deps.sh        (as root, or with sudo available)
set -euo pipefail

# Packages the harness uses:
#   linux-image-amd64  the guest kernel (/boot/vmlinuz-*) and its modules
#   kmod               depmod/modinfo for the module closure (also pulled by the kernel)
#   busybox-static     the guest userland (mount, insmod, modprobe, poweroff, ...)
#   dash               the guest /bin/sh (busybox ash prefers its own applets)
#   qemu-system-x86    qemu-system-x86_64 (TCG)
#   iproute2           the `ip` binary copied into the guest
#   cpio gzip          building the initramfs
#   xz-utils zstd      decompressing modules if the kernel ships them compressed
#   libc-bin           ldd
#   coreutils procps   timeout, setsid/kill helpers used by run.sh
PKGS=(linux-image-amd64 kmod busybox-static dash qemu-system-x86 iproute2 cpio gzip
      xz-utils zstd libc-bin coreutils procps util-linux)

APT=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=900)
[ "$(id -u)" = 0 ] || APT=(sudo "${APT[@]}")

# is_installed PKG — true when dpkg reports PKG as fully installed.
is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${PKGS[@]}"; do
    is_installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "guest deps: all installed"
    exit 0
fi

echo "guest deps: installing: ${missing[*]}"
# A failing third-party source must not stop us: carry on with what we got.
"${APT[@]}" update || echo "guest deps: apt-get update reported errors; trying the install anyway" >&2

# If qemu-system-x86 is to be installed and the installed qemu-utils does not
# have the same version as qemu-system-x86's candidate (e.g. 10.x from
# backports), pin qemu-utils to that version so apt downgrades it instead of
# failing on the conflict. Works unchanged on a fresh machine (no qemu-utils:
# the pin simply installs the matching version).
extra=()
for p in "${missing[@]}"; do
    [ "$p" = qemu-system-x86 ] || continue
    want=$(apt-cache policy qemu-system-x86 | awk '/Candidate:/ {print $2}')
    have=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
    if [ -n "$have" ] && [ -n "$want" ] && [ "$want" != "(none)" ] && [ "$have" != "$want" ]; then
        # Prefer the exact same version; else the newest qemu-utils version
        # apt knows that is not from backports.
        if apt-cache madison qemu-utils | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$want"; then
            uver=$want
        else
            uver=$(apt-cache madison qemu-utils | awk -F'|' '{gsub(/ /,"",$2); print $2}' \
                   | grep -v '~bpo' | head -n1)
        fi
        if [ -n "${uver:-}" ]; then
            echo "guest deps: qemu-utils $have conflicts with qemu-system-x86 $want; installing qemu-utils=$uver"
            extra+=("qemu-utils=$uver")
        fi
    fi
done

install() {
    "${APT[@]}" --no-install-recommends --allow-downgrades install "${missing[@]}" "${extra[@]}"
}
if ! install; then
    echo "guest deps: install failed, retrying once" >&2
    sleep 2
    install
fi

# Verify: every package must now be installed.
for p in "${PKGS[@]}"; do
    is_installed "$p" || { echo "guest deps: $p is still not installed" >&2; exit 1; }
done
echo "guest deps: done"
