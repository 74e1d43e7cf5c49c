#!/usr/bin/env bash
# ensure-deps.sh CMD... : make sure the external programs the test suites
# need are installed. As root it installs what is missing with apt-get;
# otherwise it stops with one line naming what to install.
set -euo pipefail

declare -A pkg=([chromium]=chromium [redis-server]=redis-server [nginx]=nginx [node]=nodejs)
missing=()
for cmd in "$@"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg[$cmd]:-$cmd}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]} (install with: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for cmd in "$@"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "missing: $cmd (apt-get install did not provide it)" >&2; exit 1; }
done
