#!/usr/bin/env bash
# Install every Debian package Damselfly needs to build, boot and test.
# Idempotent: when everything is present it prints one line and does nothing.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config ninja-build
	qemu-system-x86 qemu-system-data qemu-utils
	check libzstd-dev liblz4-dev zlib1g-dev libxxhash-dev libfdt-dev
	linux-libc-dev binutils python3 zstd
	clang clang-format libclang-rt-14-dev
	gdb
	iproute2 iputils-ping busybox-static
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
