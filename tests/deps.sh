#!/usr/bin/env bash
# tests/deps.sh TIER... — installs what the named tiers need and proves it is
# there afterwards. Every need is "CHECK:PACKAGE": CHECK is a command on PATH
# or an absolute path that must exist. One apt-get call installs the missing
# packages together; then EVERY need of EVERY tier that was met before the
# call is checked again (apt may remove one package to install another: on
# these machines bookworm's qemu-system-x86 removes a newer qemu-utils), and
# what is missing is installed in a second pass. A need still unmet after
# that fails the step with the package's name.
#
#   bash tests/deps.sh build test libvirt      (as root, or with sudo)
#   bash tests/deps.sh --list                   the table, one need a line
set -euo pipefail

declare -A NEEDS=(
  [build]="cargo:- pkg-config:pkg-config gcc:gcc /usr/include/libvirt/libvirt.h:libvirt-dev
           /usr/include/openssl/ssl.h:libssl-dev"
  [test]="wrk:wrk systemd-analyze:systemd ip:iproute2 unshare:util-linux nsenter:util-linux
          python3:python3 /usr/lib/python3/dist-packages/prometheus_client:python3-prometheus-client
          qemu-img:qemu-utils mkfs.ext4:e2fsprogs fsfreeze:util-linux losetup:mount"
  [ui]="node:nodejs npm:npm"
  [ssh]="/usr/sbin/sshd:openssh-server ssh:openssh-client openssl:openssl"
  [browser]="chromium:chromium /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core
             /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei
             node:nodejs npm:npm"
  [libvirt]="/usr/sbin/libvirtd:libvirt-daemon-system /usr/sbin/virtlogd:libvirt-daemon-system
             virsh:libvirt-clients qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils
             qemu-io:qemu-utils /usr/share/seabios/bios-256k.bin:seabios /usr/sbin/dnsmasq:dnsmasq-base
             iptables:iptables"
  [image]="mmdebstrap:mmdebstrap mksquashfs:squashfs-tools xorriso:xorriso grub-mkrescue:grub-common
           /usr/lib/grub/i386-pc/modinfo.sh:grub-pc-bin /usr/lib/grub/x86_64-efi/modinfo.sh:grub-efi-amd64-bin
           mformat:mtools mkfs.vfat:dosfstools mkfs.ext4:e2fsprogs /usr/share/OVMF/OVMF_CODE_4M.fd:ovmf
           qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils /usr/share/seabios/bios-256k.bin:seabios
           objcopy:binutils"
  [fuzz]="/usr/bin/python3:python3 @python3-venv:python3-venv unshare:util-linux ip:iproute2
          mkfs.ext4:e2fsprogs mount:mount losetup:mount truncate:coreutils"
  [guest]="@linux-image-amd64:linux-image-amd64 depmod:kmod @busybox-static:busybox-static
           dash:dash qemu-system-x86_64:qemu-system-x86 ip:iproute2 cpio:cpio gzip:gzip xz:xz-utils
           zstd:zstd ldd:libc-bin timeout:coreutils pkill:procps setsid:util-linux"
)
ORDER=(build ui test ssh browser libvirt image guest fuzz)

have() { # CHECK
  case "$1" in
    /*) [ -e "$1" ] ;;
    @*) [ "$(dpkg-query -W -f='${db:Status-Status}' "${1#@}" 2>/dev/null)" = installed ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

if [ "${1:-}" = --list ]; then
  for t in "${ORDER[@]}"; do for n in ${NEEDS[$t]}; do echo "$t $n"; done; done
  exit 0
fi
[ $# -gt 0 ] || { echo "usage: tests/deps.sh TIER... (tiers: ${ORDER[*]})" >&2; exit 2; }
for t in "$@"; do
  [ -n "${NEEDS[$t]+x}" ] || { echo "deps: unknown tier '$t' (tiers: ${ORDER[*]})" >&2; exit 2; }
done

APT=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=900)
[ "$(id -u)" = 0 ] || APT=(sudo "${APT[@]}")

# What is met now, of every tier: an install must not take any of it away.
declare -a kept=()
for t in "${ORDER[@]}"; do
  for n in ${NEEDS[$t]}; do have "${n%%:*}" && kept+=("$n"); done
done

missing_of() { # NEED... -> the packages of the unmet ones (unique)
  local n pkgs=()
  for n in "$@"; do
    have "${n%%:*}" && continue
    local p=${n#*:}
    [ "$p" = - ] && { echo "deps: ${n%%:*} is missing and no Debian package provides it here (install the Rust toolchain with rustup)" >&2; exit 1; }
    [[ " ${pkgs[*]:-} " == *" $p "* ]] || pkgs+=("$p")
  done
  echo "${pkgs[*]:-}"
}

wanted=()
for t in "$@"; do for n in ${NEEDS[$t]}; do wanted+=("$n"); done; done

updated=""
install() { # PACKAGE...
  [ -n "$updated" ] || { "${APT[@]}" update -q >/dev/null || echo "deps: apt-get update reported errors; trying anyway" >&2; updated=1; }
  echo "deps: installing $*"
  # An apt hook here may delete downloaded .debs between dpkg runs: retry once.
  "${APT[@]}" install "$@" || "${APT[@]}" install "$@"
}

first=$(missing_of "${wanted[@]}")
[ -z "$first" ] || install $first

# Second pass: what the tiers asked for, and what was there before the call.
second=$(missing_of "${wanted[@]}" "${kept[@]}")
if [ -n "$second" ]; then
  echo "deps: after the first pass these are missing again or still: $second (apt removed or did not install them); second pass"
  install $second
fi

left=()
for n in "${wanted[@]}" "${kept[@]}"; do have "${n%%:*}" || left+=("${n%%:*} (package ${n#*:})"); done
if [ ${#left[@]} -gt 0 ]; then
  printf 'deps: still missing after two passes: %s\n' "${left[@]}" >&2
  exit 1
fi
echo "deps: $* ready (${#wanted[@]} needs checked, ${#kept[@]} kept)"
