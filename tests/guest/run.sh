#!/usr/bin/env bash
# tests/guest/run.sh — run one Linux test program inside a throwaway QEMU TCG
# guest booted from Debian's own kernel (linux-image-amd64), for tests that
# need kernel features this host lacks (VLAN/8021q, bonding, dummy, ...).
#
# Usage: tests/guest/run.sh PROGRAM [ARGS...]
#
#   PROGRAM  an ELF executable (copied with every library `ldd` lists) or a
#            script (copied and run with the guest's /bin/sh, which is dash;
#            busybox's shell is there as `ash`).
#   ARGS     passed to PROGRAM unchanged.
#
# The guest runs PROGRAM as root right after boot (a child of /init), in /tmp,
# stdin /dev/null, with the modules 8021q bonding bridge dummy llc stp garp mrp
# veth and their dependencies loaded (bonding max_bonds=0, dummy numdummies=0:
# no bond0/dummy0 exists until the program creates one), `lo` up, busybox
# applets plus iproute2's `ip` and `bridge` on PATH. The guest console is
# streamed to stdout; run.sh's own messages go to stderr, prefixed "run.sh:".
#
# Exit status: PROGRAM's exit status inside the guest; or
#   124  the guest did not finish within GUEST_TIMEOUT seconds
#   125  harness failure (setup error, kernel panic, no end marker, ...)
#
# Environment (all optional):
#   GUEST_TIMEOUT=120        seconds before qemu is killed
#   GUEST_ENV_<NAME>=value   exported as NAME=value to PROGRAM in the guest
#   GUEST_KERNEL=<version>   kernel version (default: newest /boot/vmlinuz-*
#                            that has /lib/modules/<version>/modules.dep)
#   GUEST_MODULES="a b"      extra kernel modules to load (after the defaults)
#   GUEST_FILES="/p1 /p2"    extra host files copied to the same path in the
#                            guest (ELF files get their ldd libraries too)
#   GUEST_MEM=512            guest memory in MiB
#   GUEST_CPU=qemu64,+rdrand QEMU -cpu model (RDRAND seeds the guest's RNG at
#                            boot, so getrandom() never blocks)
#   GUEST_APPEND="..."       extra kernel command line arguments
#   GUEST_PVH=0              boot the compressed bzImage instead of the
#                            extracted vmlinux (PVH; ~2x faster boot)
#   GUEST_CACHE_DIR=dir      cache for the base initramfs
#                            (default <repo>/target/guest)
#   GUEST_KEEP=1             keep the temporary work dir (printed on exit)
#
# Needs: tests/deps.sh guest (apt packages). Must be able to read
# /boot/vmlinuz-* (root on Debian).
set -euo pipefail

ME="run.sh"
say()  { echo "$ME: $*" >&2; }
die()  { say "ERROR: $*"; exit 125; }

[ $# -ge 1 ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 125; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)

PROGRAM=$1; shift
[ -f "$PROGRAM" ] || die "program not found: $PROGRAM"
PROGRAM=$(readlink -f "$PROGRAM")

TIMEOUT=${GUEST_TIMEOUT:-120}
MEM=${GUEST_MEM:-512}
CACHE_DIR=${GUEST_CACHE_DIR:-$REPO_DIR/target/guest}
BASE_MODULES="8021q bonding bridge dummy llc stp garp mrp veth"
case "$TIMEOUT" in ''|*[!0-9]*) die "GUEST_TIMEOUT must be a whole number of seconds: $TIMEOUT";; esac

for tool in qemu-system-x86_64 cpio ldd timeout od sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is missing: run 'bash tests/deps.sh guest' first"
done
[ -x /bin/busybox ] || die "/bin/busybox is missing: run 'bash tests/deps.sh guest' first"
IP_BIN=$(command -v ip || true)
[ -n "$IP_BIN" ] || die "iproute2 'ip' is missing: run 'bash tests/deps.sh guest' first"
IP_BIN=$(readlink -f "$IP_BIN")
BRIDGE_BIN=$(command -v bridge || true)
DASH_BIN=$(command -v dash || true)
[ -n "$DASH_BIN" ] || die "dash is missing: run 'bash tests/deps.sh guest' first"

# ---------------------------------------------------------------- kernel ----
if [ -n "${GUEST_KERNEL:-}" ]; then
    KVER=$GUEST_KERNEL
else
    KVER=""
    # Newest kernel (version sort) that has both an image and modules.dep.
    for k in $(printf '%s\n' /boot/vmlinuz-* | sed -n 's#^/boot/vmlinuz-##p' | sort -V); do
        [ -f "/lib/modules/$k/modules.dep" ] && KVER=$k
    done
    [ -n "$KVER" ] || die "no /boot/vmlinuz-* with modules found: run 'bash tests/deps.sh guest' first"
fi
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -r "$KERNEL" ] || die "cannot read $KERNEL (missing, or not root?)"
[ -f "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep missing"

# --------------------------------------------------------------- helpers ----
# Work dirs carry the owning PID; remove those a SIGKILLed run left behind.
for d in "${TMPDIR:-/tmp}"/guest-run.*.*; do
    [ -d "$d" ] || continue
    pid=${d##*/guest-run.}; pid=${pid%%.*}
    case "$pid" in ''|*[!0-9]*) continue;; esac
    kill -0 "$pid" 2>/dev/null || rm -rf "$d"
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/guest-run.$$.XXXXXX")
QPID=""; TEEPID=""
# shellcheck disable=SC2317  # invoked through the trap
cleanup() {
    local rc=$?
    # Stop qemu (via its `timeout` wrapper, which forwards the signal) and tee.
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill -TERM "$QPID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$QPID" 2>/dev/null || true
    fi
    if [ -n "$TEEPID" ] && kill -0 "$TEEPID" 2>/dev/null; then
        kill -TERM "$TEEPID" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if [ "${GUEST_KEEP:-0}" = 1 ]; then say "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# sq STRING — STRING quoted for a POSIX shell (busybox ash): 'it'\''s'.
sq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# is_elf FILE — true when FILE starts with the ELF magic.
is_elf() { [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]; }

# copy_libs STAGE FILE — copy every shared library (and the dynamic loader)
# that `ldd FILE` lists into STAGE at the same absolute path.
copy_libs() {
    local stage=$1 file=$2 out lib
    if ! out=$(ldd "$file" 2>&1); then
        case "$out" in
            *"not a dynamic executable"*|*"statically linked"*) return 0;;
            *) die "ldd $file failed: $out";;
        esac
    fi
    case "$out" in *"not found"*) die "ldd $file: missing libraries:
$out";; esac
    while read -r lib; do
        [ -n "$lib" ] || continue
        [ -e "$stage$lib" ] && continue
        mkdir -p "$stage$(dirname "$lib")"
        cp -L "$lib" "$stage$lib"
    done < <(printf '%s\n' "$out" | awk '
        $2 == "=>" && $3 ~ /^\// { print $3; next }   # libfoo.so => /path (0x...)
        $1 ~ /^\// { print $1 }                      # /lib64/ld-linux... (0x...)
    ')
}

# copy_file STAGE SRC DEST — copy SRC to STAGE/DEST; ELF files bring their libs.
copy_file() {
    local stage=$1 src=$2 dest=$3
    mkdir -p "$stage$(dirname "$dest")"
    cp -L "$src" "$stage$dest"
    if is_elf "$src"; then copy_libs "$stage" "$src"; fi
}

# make_cpio DIR OUT — pack DIR as a newc cpio archive owned by root.
# Uncompressed on purpose: under TCG the guest's gunzip costs more than the
# bigger copy (measured: 3.5 s vs 3.7 s per boot for a small program, 4.0 s vs
# 5.5 s for a 120 MB debug test binary, plus ~1.5 s of host gzip).
make_cpio() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$2"
}

# ------------------------------------------------------ module closure ----
# Reads modules.dep into MOD_PATH[name] and MOD_DEPS[name] (names normalised
# with '_' for '-', as the kernel does), then orders the requested modules so
# that every dependency comes before its users.
declare -A MOD_PATH MOD_DEPS MOD_SEEN
# Module parameters: start with no bond0/dummy0 (the defaults would create
# one of each on load), so tests begin from a clean slate.
declare -A MOD_OPTS=([bonding]="max_bonds=0" [dummy]="numdummies=0")
MOD_ORDER=()
load_modules_dep() {
    # One awk pass (a shell loop over ~4000 lines would fork thousands of
    # times): "name path dep-name..." per module.
    local n p deps
    while read -r n p deps; do
        MOD_PATH[$n]=$p
        MOD_DEPS[$n]=$deps
    done < <(awk '
        function norm(f) { sub(/.*\//, "", f); sub(/\.ko.*$/, "", f); gsub(/-/, "_", f); return f }
        { sub(/:$/, "", $1); line = norm($1) " " $1
          for (i = 2; i <= NF; i++) line = line " " norm($i)
          print line }' "$MODDIR/modules.dep")
}
add_module() {   # add_module NAME — depth-first, deps first
    local n=${1//-/_} d
    [ -n "${MOD_SEEN[$n]:-}" ] && return 0
    MOD_SEEN[$n]=1
    if [ -z "${MOD_PATH[$n]:-}" ]; then
        # Built into the kernel: nothing to load.
        if grep -qE "/${n//_/[-_]}\.ko" "$MODDIR/modules.builtin" 2>/dev/null; then return 0; fi
        die "kernel module '$1' not found in $MODDIR"
    fi
    for d in ${MOD_DEPS[$n]}; do add_module "$d"; done
    MOD_ORDER+=("$n")
}

# -------------------------------------------------- base initramfs (cached) --
# busybox + applet links, modules, ip/bridge + libs, /init. Keyed on the kernel
# version and a hash of everything that goes in, so it is rebuilt only when
# this script, busybox, iproute2 or the module list change.
BASE_KEY=$( { cat "${BASH_SOURCE[0]}"; sha256sum /bin/busybox "$IP_BIN" ${BRIDGE_BIN:+"$BRIDGE_BIN"}; \
              echo "$KVER $BASE_MODULES ${GUEST_MODULES:-}"; } | sha256sum | cut -c1-16)
BASE_DIR=$CACHE_DIR/$KVER
BASE=$BASE_DIR/base-$BASE_KEY.cpio

build_base() {
    local stage=$WORK/base m p dest
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,prog}
    # busybox and its applet symlinks (never overwrite real files).
    cp /bin/busybox "$stage/bin/busybox"
    /bin/busybox --list-full | while read -r p; do
        [ "$p" = bin/busybox ] && continue
        mkdir -p "$stage/$(dirname "$p")"
        [ -e "$stage/$p" ] || ln -s /bin/busybox "$stage/$p"
    done
    # /bin/sh is dash, not busybox: Debian's busybox-static is built with
    # FEATURE_SH_STANDALONE, so its ash would run its own (limited) `ip`
    # applet for a bare `ip` even when iproute2's ip is first on PATH.
    # busybox's shell stays available as `ash` / `busybox sh`.
    rm -f "$stage/bin/sh"
    copy_file "$stage" "$(readlink -f "$DASH_BIN")" /bin/sh
    # iproute2 replaces busybox's (limited) ip applet.
    rm -f "$stage/sbin/ip" "$stage/bin/ip" "$stage/usr/bin/ip" "$stage/usr/sbin/ip"
    copy_file "$stage" "$IP_BIN" /bin/ip
    ln -s /bin/ip "$stage/sbin/ip"
    if [ -n "$BRIDGE_BIN" ]; then
        rm -f "$stage/sbin/bridge" "$stage/bin/bridge"
        copy_file "$stage" "$BRIDGE_BIN" /sbin/bridge
    fi
    [ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$stage/etc/"
    printf 'root:x:0:0:root:/root:/bin/sh\n' > "$stage/etc/passwd"
    printf 'root:x:0:\n' > "$stage/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost\n' > "$stage/etc/hosts"
    printf 'hosts: files\n' > "$stage/etc/nsswitch.conf"

    # Kernel modules with their dependency closure, plus a matching (filtered)
    # modules.dep so busybox modprobe works inside the guest too.
    load_modules_dep
    for m in $BASE_MODULES ${GUEST_MODULES:-}; do add_module "$m"; done
    local mdir=$stage/lib/modules/$KVER
    mkdir -p "$mdir"
    : > "$mdir/modules.dep"
    : > "$stage/etc/guest-modules"
    for m in "${MOD_ORDER[@]}"; do
        p=${MOD_PATH[$m]}
        dest=${p%.ko*}.ko            # store uncompressed
        mkdir -p "$mdir/$(dirname "$dest")"
        case "$p" in
            *.ko)     cp "$MODDIR/$p" "$mdir/$dest";;
            *.ko.xz)  xz -dc "$MODDIR/$p" > "$mdir/$dest";;
            *.ko.zst) zstd -qdc "$MODDIR/$p" > "$mdir/$dest";;
            *.ko.gz)  gzip -dc "$MODDIR/$p" > "$mdir/$dest";;
            *) die "unknown module format: $p";;
        esac
        local deps="" d
        for d in ${MOD_DEPS[$m]}; do deps+=" $(p=${MOD_PATH[$d]}; echo "${p%.ko*}.ko")"; done
        echo "$dest:$deps" >> "$mdir/modules.dep"
        echo "$m /lib/modules/$KVER/$dest ${MOD_OPTS[$m]:-}" >> "$stage/etc/guest-modules"
    done
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [ -f "$MODDIR/$f" ] && cp "$MODDIR/$f" "$mdir/"
    done

    # /init: PID 1. Mounts, loads modules, runs /prog/run (written per run),
    # prints the end marker with the exit status, powers off.
    cat > "$stage/init" <<'EOF'
#!/bin/sh
# Guest init generated by tests/guest/run.sh.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
ln -sf /proc/self/fd /dev/fd 2>/dev/null
# Load modules in dependency order (insmod: independent of modprobe flavour).
while read -r name path opts; do
    [ -d "/sys/module/$name" ] && continue
    # shellcheck disable=SC2086  # $opts holds zero or more module parameters
    insmod "$path" $opts || echo "guest-init: WARNING: insmod $path failed"
done < /etc/guest-modules
ip link set lo up
marker=$(cat /prog/marker)
echo "$marker BEGIN"
# The program runs in a subshell so its environment stays its own; stdin is
# /dev/null so a program that reads it cannot hang the run.
( . /prog/env; cd /tmp || exit 125; . /prog/run < /dev/null )
rc=$?
echo "$marker EXIT $rc"
sync
sleep 0.2    # let the UART drain before the power goes
poweroff -f
# Not reached unless poweroff failed; PID 1 must never exit.
while :; do sleep 3600; done
EOF
    chmod 755 "$stage/init"
    make_cpio "$stage" "$WORK/base.cpio"
    rm -rf "$stage"
}

if [ ! -s "$BASE" ]; then
    say "building base initramfs for $KVER (cache: $BASE)"
    build_base
    mkdir -p "$BASE_DIR"
    # Atomic publish, then keep only the 4 newest bases for this kernel (a
    # changed GUEST_MODULES or run.sh makes a new one).
    mv -f "$WORK/base.cpio" "$BASE.tmp.$$"
    mv -f "$BASE.tmp.$$" "$BASE"
    find "$BASE_DIR" -maxdepth 1 -name 'base-*.cpio' -printf '%T@ %p\n' 2>/dev/null \
        | sort -rn | tail -n +5 | cut -d' ' -f2- | while read -r old; do rm -f "$old"; done
fi

# ------------------------------------------------- PVH kernel (cached) ----
# Under TCG, decompressing the bzImage costs 3-4 s of every boot. Debian's
# kernel has CONFIG_PVH, so QEMU can boot the uncompressed ELF vmlinux
# directly through its PVH entry point: extract it once per kernel image into
# the cache (like the kernel's scripts/extract-vmlinux). Falls back to the
# bzImage if that fails; GUEST_PVH=0 forces the bzImage.
extract_vmlinux() {   # extract_vmlinux BZIMAGE OUT
    local img=$1 out=$2 magic cmd off
    while read -r magic cmd; do
        command -v "${cmd%% *}" >/dev/null || continue
        for off in $(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | cut -d: -f1 | head -n 3); do
            # Trailing bytes after the stream make the decompressor complain.
            tail -c "+$((off + 1))" "$img" | $cmd > "$out.tmp.$$" 2>/dev/null || true
            if is_elf "$out.tmp.$$"; then mv -f "$out.tmp.$$" "$out"; return 0; fi
        done
    done <<'EOF2'
\xFD7zXZ\x00 xz -dc
\x1F\x8B\x08 gzip -dc
\x28\xB5\x2F\xFD zstd -qdc
EOF2
    rm -f "$out.tmp.$$"
    return 1
}
BOOT_KERNEL=$KERNEL
if [ "${GUEST_PVH:-1}" = 1 ] && grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER" 2>/dev/null; then
    VMLINUX=$BASE_DIR/vmlinux-$(stat -c %s-%Y "$KERNEL")
    if [ ! -s "$VMLINUX" ]; then
        mkdir -p "$BASE_DIR"
        find "$BASE_DIR" -maxdepth 1 -name 'vmlinux-*' ! -name '*.tmp.*' -delete 2>/dev/null || true
        extract_vmlinux "$KERNEL" "$VMLINUX" || say "could not extract vmlinux from $KERNEL; booting the bzImage (slower)"
    fi
    [ -s "$VMLINUX" ] && BOOT_KERNEL=$VMLINUX
fi

# ---------------------------------------------- per-run initramfs (program) --
# A second cpio archive appended to the base one: the kernel unpacks both.
STAGE=$WORK/prog
mkdir -p "$STAGE/prog"
NAME=$(basename "$PROGRAM")
copy_file "$STAGE" "$PROGRAM" "/prog/bin/$NAME"
chmod 755 "$STAGE/prog/bin/$NAME"
for f in ${GUEST_FILES:-}; do
    [ -f "$f" ] || die "GUEST_FILES: not a file: $f"
    copy_file "$STAGE" "$f" "$(readlink -f "$f")"
done

# Unique end marker: a random token the program cannot guess or echo by chance.
TOKEN=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
MARKER="@@GUEST-RUN-$TOKEN@@"
echo "$MARKER" > "$STAGE/prog/marker"

# Environment: GUEST_ENV_<NAME>=value on the host -> NAME=value in the guest.
{
    while IFS= read -r -d '' kv; do
        case "$kv" in GUEST_ENV_?*=*) ;; *) continue;; esac
        kv=${kv#GUEST_ENV_}
        name=${kv%%=*}; val=${kv#*=}
        case "$name" in *[!A-Za-z0-9_]*|[0-9]*) die "bad GUEST_ENV_ name: $name";; esac
        echo "export $name=$(sq "$val")"
    done < <(env -0)
} > "$STAGE/prog/env"

# Command: ELF runs directly, anything else through /bin/sh.
{
    if is_elf "$PROGRAM"; then printf '%s' "/prog/bin/$(sq "$NAME")"
    else printf '%s' "/bin/sh /prog/bin/$(sq "$NAME")"; fi
    for a in "$@"; do printf ' %s' "$(sq "$a")"; done
    echo
} > "$STAGE/prog/run"

make_cpio "$STAGE" "$WORK/prog.cpio"
cat "$BASE" "$WORK/prog.cpio" > "$WORK/initrd.cpio"

# -------------------------------------------------------------------- boot --
LOG=$WORK/console.log
mkfifo "$WORK/console.fifo"
# tee streams the console to stdout and keeps a copy to look for the marker.
tee "$LOG" < "$WORK/console.fifo" &
TEEPID=$!

START=$(date +%s.%N)
# `timeout` bounds qemu's life. If this script dies without running its trap
# (SIGKILL, e.g. a Rust test harness killing its child), setpriv's parent-death
# signals tear the chain down at once: run.sh -> timeout (TERM, which it
# forwards to qemu) -> qemu (KILL if timeout itself dies).
PDEATH_TERM=(); PDEATH_KILL=()
if command -v setpriv >/dev/null && setpriv --pdeathsig TERM true 2>/dev/null; then
    PDEATH_TERM=(setpriv --pdeathsig TERM); PDEATH_KILL=(setpriv --pdeathsig KILL)
fi
"${PDEATH_TERM[@]}" timeout -k 5 "$TIMEOUT" "${PDEATH_KILL[@]}" qemu-system-x86_64 \
    -accel tcg -cpu "${GUEST_CPU:-qemu64,+rdrand}" -m "$MEM" -smp 1 \
    -nodefaults -no-user-config -display none -monitor none \
    -serial stdio -no-reboot \
    -kernel "$BOOT_KERNEL" -initrd "$WORK/initrd.cpio" \
    -append "console=ttyS0 panic=-1 quiet ${GUEST_APPEND:-}" \
    < /dev/null > "$WORK/console.fifo" 2>&1 &
QPID=$!
set +e
wait "$QPID"; QRC=$?
set -e
QPID=""
wait "$TEEPID" 2>/dev/null || true
TEEPID=""
END=$(date +%s.%N)
ELAPSED=$(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.1f", b - a }')

# ------------------------------------------------------------------ verdict --
if [ "$QRC" -eq 124 ] || [ "$QRC" -eq 137 ]; then
    say "ERROR: guest timed out after ${TIMEOUT}s (GUEST_TIMEOUT); qemu killed"
    exit 124
fi
CLEAN=$(tr -d '\r' < "$LOG")
RC=$(printf '%s\n' "$CLEAN" | sed -n "s/^$MARKER EXIT \([0-9][0-9]*\)\$/\1/p" | tail -n1)
if [ -z "$RC" ]; then
    # No end marker: say why, as precisely as the console allows.
    if printf '%s\n' "$CLEAN" | grep -q 'Kernel panic'; then
        say "ERROR: guest kernel panicked (see console output above) after ${ELAPSED}s"
    elif ! printf '%s\n' "$CLEAN" | grep -qxF "$MARKER BEGIN"; then
        say "ERROR: guest never started the program (qemu exit $QRC, ${ELAPSED}s)"
    else
        say "ERROR: no end marker from the guest: the program powered off or crashed it (qemu exit $QRC, ${ELAPSED}s)"
    fi
    exit 125
fi
say "program exited $RC (guest run ${ELAPSED}s, kernel $KVER)"
exit "$RC"
