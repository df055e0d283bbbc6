#!/usr/bin/env bash
# tests/guest/smoke.sh — self-test of the TCG guest harness (run.sh).
#
# Boots one guest that, with iproute2's `ip`, builds the stack this project
# needs and the host kernel cannot: two dummy links enslaved to an
# active-backup bond (miimon 100), a VLAN bond0.10 on the bond, and a bridge
# br0 with an address (with bond0.10 as its port). Every step is checked with
# `ip -d link show`; the guest prints PASS/FAIL lines and exits non-zero on any
# failure. It also checks that run.sh passes ARGS and GUEST_ENV_* through.
#
# Usage: bash tests/guest/smoke.sh     (SMOKE_NO_DEPS=1 skips deps.sh)
# Exit status: run.sh's (the guest script's failure count, 124/125 on harness
# trouble).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Idempotent and fast (<1 s) when everything is installed.
[ "${SMOKE_NO_DEPS:-0}" = 1 ] || bash "$HERE/../deps.sh" guest

TMP=$(mktemp -d "${TMPDIR:-/tmp}/guest-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# The program run inside the guest (by /bin/sh = dash there).
cat > "$TMP/smoke-guest.sh" <<'GUEST'
#!/bin/sh
# Runs inside the guest as root. $1 and $SMOKE_WORD come from the host.
passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

# step DESC CMD... — run CMD, PASS/FAIL on its status, show output on failure.
step() {
    d=$1; shift
    if out=$("$@" 2>&1); then pass "$d"; else fail "$d"; echo "$out" | sed 's/^/    /'; fi
}
# has DEV PATTERN DESC — `ip -d link show DEV` contains PATTERN (fixed string).
has() {
    if ip -d link show dev "$1" 2>&1 | grep -qF -- "$2"; then pass "$3"
    else fail "$3 (no '$2' in 'ip -d link show $1')"; ip -d link show dev "$1" 2>&1 | sed 's/^/    /'; fi
}

# same DESC GOT WANT — PASS when GOT equals WANT.
same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got [$2], want [$3])"; fi; }

echo "== harness plumbing"
same "argument passed intact" "$1" "arg with 'quotes' and spaces"
# shellcheck disable=SC2016  # the literal text $HOME is the point
same "GUEST_ENV_SMOKE_WORD exported" "$SMOKE_WORD" 'it'\''s $HOME'
same "bare 'ip' is iproute2's" "$(ip -V 2>&1 | grep -c iproute2)" 1
same "no bond0/dummy0 before the test creates them" "$(ip -o link show | grep -cE ' (bond0|dummy0):')" 0

echo "== dummy pair"
step "ip link add dummy0 type dummy" ip link add dummy0 type dummy
step "ip link add dummy1 type dummy" ip link add dummy1 type dummy
has dummy0 "dummy" "dummy0 exists and is a dummy"
has dummy1 "dummy" "dummy1 exists and is a dummy"

echo "== bond"
step "ip link add bond0 type bond mode active-backup miimon 100" \
    ip link add bond0 type bond mode active-backup miimon 100
step "enslave dummy0 to bond0" ip link set dummy0 master bond0
step "enslave dummy1 to bond0" ip link set dummy1 master bond0
step "bond0 up" ip link set bond0 up
has bond0 "bond mode active-backup" "bond0 exists in mode active-backup"
has bond0 "miimon 100" "bond0 has miimon 100"
has dummy0 "master bond0" "dummy0 is enslaved to bond0"
has dummy1 "master bond0" "dummy1 is enslaved to bond0"
has dummy0 "bond_slave" "dummy0 is a bond slave"
if grep -q "Slave Interface: dummy1" /proc/net/bonding/bond0 2>/dev/null; then
    pass "/proc/net/bonding/bond0 lists both slaves"
else
    fail "/proc/net/bonding/bond0 lists both slaves"; sed 's/^/    /' /proc/net/bonding/bond0 2>&1
fi

echo "== VLAN on the bond"
step "ip link add link bond0 name bond0.10 type vlan id 10" \
    ip link add link bond0 name bond0.10 type vlan id 10
step "bond0.10 up" ip link set bond0.10 up
has bond0.10 "vlan protocol 802.1Q id 10" "bond0.10 is VLAN 10 (802.1Q)"
has bond0.10 "bond0.10@bond0" "bond0.10 sits on bond0"

echo "== bridge with an address"
step "ip link add br0 type bridge" ip link add br0 type bridge
step "bond0.10 into br0" ip link set bond0.10 master br0
step "ip addr add 10.213.250.1/24 dev br0" ip addr add 10.213.250.1/24 dev br0
step "br0 up" ip link set br0 up
has br0 "bridge forward_delay" "br0 exists and is a bridge"
has bond0.10 "master br0" "bond0.10 is a port of br0"
if ip -4 addr show dev br0 | grep -qF "inet 10.213.250.1/24"; then pass "br0 has 10.213.250.1/24"
else fail "br0 has 10.213.250.1/24"; ip addr show dev br0 | sed 's/^/    /'; fi

echo "== cleanup"
step "delete br0" ip link del br0
step "delete bond0.10" ip link del bond0.10
step "delete bond0" ip link del bond0
step "delete dummies" sh -c 'ip link del dummy0 && ip link del dummy1'

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
GUEST

start=$(date +%s.%N)
set +e
GUEST_ENV_SMOKE_WORD='it'\''s $HOME' \
    bash "$HERE/run.sh" "$TMP/smoke-guest.sh" "arg with 'quotes' and spaces"
rc=$?
set -e
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [ "$rc" -eq 0 ]; then echo "smoke.sh: PASS (${secs}s)"; else echo "smoke.sh: FAIL, status $rc (${secs}s)"; fi
exit "$rc"
