#!/usr/bin/env bash
# buildroot/check.sh — `make test-buildroot`: our BR2_EXTERNAL tree against
# Buildroot's own source (../shared/buildroot/buildroot-*.tar.xz, beside the
# repository). Buildroot cannot build the image here (it downloads every
# package's source), but everything before the downloads runs offline:
#   - `make <defconfig>` with BR2_EXTERNAL=buildroot/ loads each of our
#     defconfigs through Buildroot's Kconfig; every `BR2_X=value` and
#     `# BR2_X is not set` line must come out unchanged in .config (Kconfig
#     silently drops an unknown symbol, an unmet dependency or a refused
#     value), Kconfig must print no warning and must not flag BR2_LEGACY;
#   - every BR2_ symbol our Config.in files name is defined by Buildroot's
#     Kconfig (not only as a legacy option) or by this tree;
#   - `make show-info` (every selected package's .mk, ours included, through
#     Buildroot's package infrastructure) and `make <pkg>-show-info` for each
#     of our packages run without a warning; show-info names every package of
#     this tree, the crate's package with Cargo.toml's version, and every
#     dependency of every package it lists is itself listed;
#   - checks Buildroot does not make: $(BR2_EXTERNAL_<NAME>_PATH) references
#     point at files that exist, the .mk uses the cargo infrastructure, the
#     files it and the Makefile's install-files install exist, the board
#     scripts parse and are executable.
# It proves neither that the sources download, nor that they compile, nor
# that the image boots.
#
# VDI_BUILDROOT_TARBALL=<file> uses another Buildroot tarball;
# VDI_BUILDROOT_DEFCONFIG=<file> checks that defconfig instead of configs/*
# (to see the check fail on a broken copy without touching the tree).
set -euo pipefail
TREE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TREE/.." && pwd)
start=$SECONDS
fail=0
bad() { echo "buildroot: $*" >&2; fail=1; }
die() { echo "buildroot: $*" >&2; exit 1; }

# Host tools that `make defconfig` / `show-info` run (found with strace),
# with the Debian package that provides each.
for t in make:make gcc:gcc as:binutils tar:tar xz:xz-utils sed:sed awk:mawk \
         which:debianutils python3:python3; do
    command -v "${t%%:*}" >/dev/null || bad "${t%%:*} is missing (Debian package ${t#*:})"
done
[ $fail = 0 ] || exit 1

name=$(sed -n 's/^name:[[:space:]]*//p' "$TREE/external.desc")
[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || bad "external.desc: no valid name: line"
var="BR2_EXTERNAL_${name}_PATH"

# $(BR2_EXTERNAL_X_PATH)/path and $BR2_EXTERNAL_X_PATH/path references.
while IFS=: read -r file _ ref; do
    used=$(sed -E 's/^\$\(?(BR2_EXTERNAL_[A-Za-z0-9_]+_PATH)\)?.*/\1/' <<<"$ref")
    [ "$used" = "$var" ] || { bad "$file: $used is not $var"; continue; }
    rel=$(sed -E 's/^\$\(?BR2_EXTERNAL_[A-Za-z0-9_]+_PATH\)?//; s/["[:space:]].*$//' <<<"$ref")
    case "$rel" in *'*'*|'') continue;; esac   # globs (external.mk) and the bare tree
    [ -e "$TREE$rel" ] || bad "$file: $ref: $TREE$rel does not exist"
done < <(grep -rnoE '\$\(?BR2_EXTERNAL_[A-Za-z0-9_]+_PATH\)?[^" )]*' "$TREE" --include='*.in' \
           --include='*.mk' --include='*_defconfig' --include='*.sh' | grep -v "/check.sh:" || true)

crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)
packages=()
for dir in "$TREE"/package/*/; do
    pkg=$(basename "$dir")
    packages+=("$pkg")
    mk="$dir/$pkg.mk"
    [ -f "$mk" ] || { bad "package/$pkg: $pkg.mk is missing"; continue; }
    up=$(tr 'a-z-' 'A-Z_' <<<"$pkg")
    # Files installed from the source tree ($(@D) is the repository copy):
    # the Makefile's install-files target, and every file its recipe names.
    if grep -q 'install-files' "$mk"; then
        recipe=$(sed -n '/^install-files:/,/^$/p' "$REPO/Makefile")
        [ -n "$recipe" ] || bad "$pkg.mk runs make install-files, which the Makefile lacks"
        for f in $(grep -oE '(^|[[:space:]])((systemd|docs)/[^ ;]+|README\.md)' <<<"$recipe" | sort -u); do
            compgen -G "$REPO/$f" >/dev/null || bad "make install-files installs $f, which is not in the repository"
        done
    fi
    for f in $(grep -oE "\\\$\\(${up}_PKGDIR\\)/[^ ]+" "$mk" | sed "s#^\$(${up}_PKGDIR)/##" | sort -u); do
        [ -e "$dir/$f" ] || bad "$pkg.mk installs package/$pkg/$f, which does not exist"
    done
    grep -q '\$(eval \$(cargo-package))' "$mk" || bad "$pkg.mk does not use the cargo infrastructure"
done

for s in "$TREE"/board/*/*.sh; do
    bash -n "$s" || bad "${s#$TREE/} does not parse"
    [ -x "$s" ] || bad "${s#$TREE/} is not executable"
done

# Buildroot itself: never skipped. CI has shared/ beside the repository.
if [ -n "${VDI_BUILDROOT_TARBALL:-}" ]; then
    tarballs=("$VDI_BUILDROOT_TARBALL")
    [ -f "$VDI_BUILDROOT_TARBALL" ] || die "VDI_BUILDROOT_TARBALL: $VDI_BUILDROOT_TARBALL does not exist"
else
    pattern="$(realpath -m "$REPO/../shared/buildroot")/buildroot-*.tar.xz"
    mapfile -t tarballs < <(compgen -G "$pattern" || true)
    [ ${#tarballs[@]} -gt 0 ] || die "Buildroot's source is missing: nothing matches $pattern" \
        "(shared/ must sit beside the repository; or set VDI_BUILDROOT_TARBALL)"
    [ ${#tarballs[@]} = 1 ] || die "more than one Buildroot tarball matches $pattern: ${tarballs[*]}"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdi-buildroot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
tar -xJf "${tarballs[0]}" -C "$tmp" || die "cannot unpack ${tarballs[0]}"
src=$(compgen -G "$tmp/*/Config.in.legacy" | head -n1 || true)
src=${src%/Config.in.legacy}
[ -n "$src" ] && [ -f "$src/Makefile" ] || die "${tarballs[0]} holds no Buildroot tree"
# Buildroot runs as a top-level make, not under the caller's (jobserver, -s).
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS
br() { make -s -C "$src" "$@"; }

# Symbols our Config.in files name: Buildroot's (legacy ones excluded) or ours.
known=$(grep -rhoE --include='Config.*' --exclude='Config.in.legacy' \
             '^[[:space:]]*(menu)?config[[:space:]]+BR2_[A-Za-z0-9_]+' "$src" "$TREE" | awk '{print $2}' | sort -u)
for f in "$TREE"/Config.in "$TREE"/package/*/Config.in; do
    for sym in $(sed 's/#.*//' "$f" | grep -oE 'BR2_[A-Za-z0-9_]+' | grep -v "^$var\$" | sort -u); do
        grep -qx "$sym" <<<"$known" || bad "${f#$TREE/}: $sym is neither a Buildroot symbol (${tarballs[0]##*/}) nor one of this tree"
    done
done

if [ -n "${VDI_BUILDROOT_DEFCONFIG:-}" ]; then
    [ -f "$VDI_BUILDROOT_DEFCONFIG" ] || die "VDI_BUILDROOT_DEFCONFIG: $VDI_BUILDROOT_DEFCONFIG does not exist"
    defconfigs=("$(realpath "$VDI_BUILDROOT_DEFCONFIG")")
else
    mapfile -t defconfigs < <(compgen -G "$TREE/configs/*_defconfig" || true)
    [ ${#defconfigs[@]} -gt 0 ] || die "configs/ holds no *_defconfig"
fi
declare -A enabled=()
unconfigured=0
for def in "${defconfigs[@]}"; do
    label=${def#$TREE/}
    out="$tmp/out-$(basename "$def")"
    if [ "$def" = "$TREE/configs/$(basename "$def")" ]; then
        target=("$(basename "$def")")                   # as the README has users run it
    else
        target=(defconfig "BR2_DEFCONFIG=$def")
    fi
    if ! br O="$out" BR2_EXTERNAL="$TREE" "${target[@]}" >"$tmp/log" 2>"$tmp/err"; then
        cat "$tmp/log" "$tmp/err" >&2; bad "$label: Buildroot's defconfig failed"; unconfigured=1; continue
    fi
    [ ! -s "$tmp/err" ] || { cat "$tmp/err" >&2; bad "$label: Kconfig warned (above)"; }
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        if [[ "$line" =~ ^BR2_([A-Za-z0-9_]+)= ]] || [[ "$line" =~ ^#\ BR2_([A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
            grep -qxF -- "$line" "$out/.config" && continue
            sym=BR2_${BASH_REMATCH[1]}
            now=$(grep -E "^($sym=|# $sym is not set$)" "$out/.config" || echo "nothing")
            bad "$label:$n: dropped by Kconfig: '$line' (.config has: $now)"
        elif [[ "$line" =~ ^[[:space:]]*(#|$) ]]; then
            continue
        else
            bad "$label:$n: not a Kconfig line: '$line'"
        fi
    done <"$def"
    grep -qx 'BR2_LEGACY=y' "$out/.config" && bad "$label: selects legacy options (BR2_LEGACY=y)"
    for pkg in "${packages[@]}"; do
        grep -qx "BR2_PACKAGE_$(tr 'a-z-' 'A-Z_' <<<"$pkg")=y" "$out/.config" && enabled[$pkg]=1
    done

    # Every package .mk through Buildroot's infrastructure.
    if ! br O="$out" show-info >"$tmp/info.json" 2>"$tmp/err" || [ -s "$tmp/err" ]; then
        cat "$tmp/err" >&2; bad "$label: make show-info failed or warned (above)"; continue
    fi
    for pkg in "${packages[@]}"; do
        grep -qx "BR2_PACKAGE_$(tr 'a-z-' 'A-Z_' <<<"$pkg")=y" "$out/.config" || continue
        if ! br O="$out" "$pkg-show-info" >"$tmp/pkg.json" 2>"$tmp/err" || [ -s "$tmp/err" ]; then
            cat "$tmp/err" >&2; bad "$label: make $pkg-show-info failed or warned (above)"; continue
        fi
        want=""; [ "$pkg" = "$crate" ] && want=$version
        python3 - "$tmp/info.json" "$tmp/pkg.json" "$pkg" "$want" <<'EOF' || bad "$label: show-info (above)"
import json, sys
info_path, pkg_path, pkg, want = sys.argv[1:]
errors = {}  # ordered, without repeats
try:
    info = json.load(open(info_path))
    own = json.load(open(pkg_path))
except ValueError as e:
    sys.exit(f"buildroot: show-info output is not JSON: {e}")
entry = info.get(pkg)
if entry is None:
    errors.setdefault(f"show-info does not name {pkg}")
else:
    if want and entry.get("version") != want:
        errors.setdefault(f"{pkg} is version {entry.get('version')!r} in show-info, Cargo.toml says {want!r}")
    for dep in entry.get("dependencies", []):
        if dep not in info:
            errors.setdefault(f"{pkg} depends on {dep}, which show-info does not list")
    if own != {pkg: entry}:
        errors.setdefault(f"{pkg}-show-info differs from show-info's {pkg} entry")
for name, e in info.items():
    for dep in e.get("dependencies", []):
        if dep not in info:
            errors.setdefault(f"{name} depends on {dep}, which show-info does not list")
for e in errors:
    print(f"buildroot: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
    done
done
for pkg in "${packages[@]}"; do
    [ $unconfigured = 1 ] || [ -n "${enabled[$pkg]:-}" ] || bad "package/$pkg is enabled by no defconfig, so Buildroot never parsed it"
done

[ $fail = 0 ] || exit 1
rm -rf "$tmp"   # before the time is taken: deleting 20,000 files is part of it
echo "buildroot: ${#defconfigs[@]} defconfig and ${#packages[@]} package checked against ${tarballs[0]##*/}" \
     "(Kconfig kept every line, show-info parsed every package) in $((SECONDS - start))s"
