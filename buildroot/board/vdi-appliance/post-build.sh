#!/usr/bin/env bash
# Buildroot post-build: $1 is the target directory. The image's mount point
# for the data partition, and no stale SSH host keys in the image.
set -euo pipefail
target=$1
mkdir -p "$target/data"
rm -f "$target"/etc/ssh/ssh_host_*
