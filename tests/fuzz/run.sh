#!/usr/bin/env bash
# tests/fuzz/run.sh — the schema-fuzzing tier (make test-fuzz).
#
# 1. Puts the pinned fuzzer (tests/fuzz/requirements.txt: schemathesis,
#    openapi-spec-validator) into a venv under target/ (PyPI, once; again
#    when the pins change).
# 2. Runs tests/fuzz/fuzz.py inside fresh network and mount namespaces
#    (`unshare`, root): there the built binary is initialised as the
#    controller on veth NICs and a loop-mounted ext4 "partition", serves on
#    the namespace's 127.0.0.1 and is fuzzed from its own OpenAPI document.
#    No request can reach any other host: the namespace has no way out.
#
# Environment: VDI_BIN (default target/debug/vdi-appliance), FUZZ_EXAMPLES
# (test cases per operation, default 12), FUZZ_MAX_TIME (seconds for the
# fuzzer, default 240), FUZZ_SEED (default 1), FUZZ_WORKERS (default 2).
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$PWD
venv=$root/target/fuzz-venv
req=$root/tests/fuzz/requirements.txt
stamp=$venv/.requirements.sha256

[ "$(id -u)" = 0 ] || { echo "fuzz: needs root (network + mount namespaces, loop mount)" >&2; exit 1; }
# Debian's python3 with its venv module (tests/deps.sh fuzz), never a
# developer's pyenv shim.
py=/usr/bin/python3
[ -x "$py" ] || { echo "fuzz: $py is missing (bash tests/deps.sh fuzz)" >&2; exit 1; }

want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/st" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "fuzz: installing the pinned fuzzer into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

bin=${VDI_BIN:-$root/target/debug/vdi-appliance}
[ -x "$bin" ] || { echo "fuzz: $bin is missing (cargo build --locked)" >&2; exit 1; }
export VDI_BIN=$bin
# No __pycache__ beside the scripts.
export PYTHONDONTWRITEBYTECODE=1

work=$(mktemp -d "$root/target/fuzz-run.XXXXXX")
export FUZZ_WORK=$work
echo "fuzz: work directory $work"
# --propagation private: the loop mount stays inside; --net: a namespace
# with nothing but the veths fuzz.py makes.
rc=0
unshare --net --mount --propagation private -- \
  "$venv/bin/python" "$root/tests/fuzz/fuzz.py" || rc=$?
# Keep the reports of a failed run; drop the storage image either way.
rm -f "$work/storage.img"
[ $rc -ne 0 ] || rm -rf "$work"
exit $rc
