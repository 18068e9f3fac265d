#!/usr/bin/env bash
# tools/build/ensure_debian_packages.sh WHO PACKAGE... : make sure the Debian packages are
# installed, as ./bazelw does for Bazel's: missing ones are installed with apt-get (after
# `apt-get update`) when running as root, or through `sudo -n` when that works; otherwise it
# prints the command to run and exits with status 2. WHO prefixes the messages (the calling
# script's name). When everything is present the check costs one dpkg-query call.
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 WHO PACKAGE..." >&2
  exit 64
fi
who=$1
shift
packages=("$@")

# One call for all packages; a package is present when dpkg says "install ok installed".
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
  awk '$NF == "installed" { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qx -- "${p}" <<<"${installed}" || missing+=("${p}")
done
((${#missing[@]} == 0)) && exit 0

install_cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ ${EUID} -eq 0 ]]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo_cmd=(sudo -n)
else
  echo "${who}: missing Debian packages: ${missing[*]}" >&2
  echo "${who}: install them with: sudo apt-get update && sudo ${install_cmd[*]}" >&2
  exit 2
fi
echo "${who}: installing missing Debian packages: ${missing[*]}" >&2
"${sudo_cmd[@]}" apt-get update -q >&2
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >&2  # past sudo's env reset
echo "${who}: packages installed" >&2
