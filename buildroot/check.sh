#!/usr/bin/env bash
# buildroot/check.sh — `make test-buildroot`: the BR2_EXTERNAL tree is
# consistent, since it cannot be built on these machines (Buildroot fetches
# its sources from upstream sites). It checks that
#   - external.desc names the tree, and every $(BR2_EXTERNAL_<NAME>_PATH)
#     reference uses that name and points at a file or directory that exists;
#   - every package directory has Config.in + <pkg>.mk, is sourced from the
#     top Config.in, and its version is Cargo.toml's;
#   - the .mk installs through the Makefile's install-files, and every file
#     that recipe or the package directory provides exists;
#   - every BR2_ symbol of the defconfigs and Config.in files is defined by
#     this tree or listed in upstream-symbols.txt (checked against Buildroot);
#   - the scripts parse (bash -n) and are executable.
set -euo pipefail
TREE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TREE/.." && pwd)
fail=0
bad() { echo "buildroot: $*" >&2; fail=1; }

name=$(sed -n 's/^name:[[:space:]]*//p' "$TREE/external.desc")
[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || bad "external.desc: no valid name: line"
var="BR2_EXTERNAL_${name}_PATH"
for f in Config.in external.mk; do [ -f "$TREE/$f" ] || bad "$f is missing"; done

# $(BR2_EXTERNAL_X_PATH)/path and $BR2_EXTERNAL_X_PATH/path references.
while IFS=: read -r file _ ref; do
    used=$(sed -E 's/^\$\(?(BR2_EXTERNAL_[A-Za-z0-9_]+_PATH)\)?.*/\1/' <<<"$ref")
    [ "$used" = "$var" ] || { bad "$file: $used is not $var"; continue; }
    rel=$(sed -E 's/^\$\(?BR2_EXTERNAL_[A-Za-z0-9_]+_PATH\)?//; s/["[:space:]].*$//' <<<"$ref")
    case "$rel" in *'*'*|'') continue;; esac   # globs (external.mk) and the bare tree
    [ -e "$TREE$rel" ] || bad "$file: $ref: $TREE$rel does not exist"
done < <(grep -rnoE '\$\(?BR2_EXTERNAL_[A-Za-z0-9_]+_PATH\)?[^" )]*' "$TREE" --include='*.in' \
           --include='*.mk' --include='*_defconfig' --include='*.sh' | grep -v "/check.sh:" || true)

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)
for dir in "$TREE"/package/*/; do
    pkg=$(basename "$dir")
    mk="$dir/$pkg.mk"
    [ -f "$dir/Config.in" ] || bad "package/$pkg: Config.in is missing"
    [ -f "$mk" ] || { bad "package/$pkg: $pkg.mk is missing"; continue; }
    grep -q "package/$pkg/Config.in" "$TREE/Config.in" || bad "package/$pkg is not sourced from Config.in"
    up=$(tr 'a-z-' 'A-Z_' <<<"$pkg")
    v=$(sed -n "s/^${up}_VERSION = //p" "$mk")
    [ "$v" = "$version" ] || bad "$pkg.mk: version $v is not Cargo.toml's $version"
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

# Symbols: defined here (config X / menuconfig X) or known upstream.
known=$( { grep -rhoE '^(menu)?config[[:space:]]+BR2_[A-Za-z0-9_]+' "$TREE" --include='Config.in*' | awk '{print $2}';
           grep -vE '^[[:space:]]*(#|$)' "$TREE/upstream-symbols.txt" | awk '{print $1}'; } | sort -u)
for f in "$TREE"/configs/*_defconfig "$TREE"/Config.in "$TREE"/package/*/Config.in; do
    for sym in $(grep -vE '^[[:space:]]*#' "$f" | grep -oE 'BR2_[A-Za-z0-9_]+' | grep -v "^$var\$" | sort -u); do
        grep -qx "$sym" <<<"$known" || bad "${f#$TREE/}: $sym is neither defined by this tree nor in upstream-symbols.txt"
    done
done
# A defconfig line is SYMBOL=value.
for f in "$TREE"/configs/*_defconfig; do
    grep -vE '^[[:space:]]*(#|$)' "$f" | grep -vE '^BR2_[A-Za-z0-9_]+=("([^"\\]|\\.)*"|y|[0-9]+)$' \
        | while read -r l; do echo "buildroot: ${f#$TREE/}: not SYMBOL=value: $l" >&2; done | grep -q . && fail=1 || true
done

for s in "$TREE"/board/*/*.sh; do
    bash -n "$s" || bad "${s#$TREE/} does not parse"
    [ -x "$s" ] || bad "${s#$TREE/} is not executable"
done
[ $fail = 0 ] || exit 1
echo "buildroot: tree consistent ($(ls "$TREE"/configs | wc -l) defconfig, $(ls -d "$TREE"/package/*/ | wc -l) package, $(grep -vcE '^[[:space:]]*(#|$)' "$TREE/upstream-symbols.txt") upstream symbols)"
