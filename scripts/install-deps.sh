#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs everything vfmig needs to build, test and run its demo on a
# Debian 12 machine: the toolchain (gcc, and bookworm's clang for the
# second compiler build) and libraries, and for the VM tests
# QEMU 10, libvirt 11.3's daemon, Debian's 6.1 and 6.12 kernels with
# their headers, busybox, gnutls's certtool (the rig's TLS PKI).
# Idempotent; needs root.
#
# bookworm-backports packages are named one by one as pkg/bookworm-backports
# (with the dependencies that exist in both suites), never with
# -t bookworm-backports, which would also upgrade systemd and the libc
# headers.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: needs root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

sh "$here/enable-backports.sh"
apt-get update -qq

bpo=bookworm-backports

# The newest 6.1 ABI of bookworm and the 6.12 one the backports meta
# package points at, so nothing here needs editing when Debian moves on.
k61=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
      awk '{print $1}' | sort -V | tail -n 1)
k612=$(apt-cache show "linux-image-amd64/$bpo" |
       sed -n 's/^Depends: \(linux-image-[^ ]*\).*/\1/p' | head -n 1)
if [ -z "$k61" ] || [ -z "$k612" ]; then
    echo "install-deps: cannot find Debian's 6.1 and 6.12 kernel packages" >&2
    exit 1
fi

apt-get install -y -qq --no-install-recommends \
    gcc clang libc6-dev make pkg-config meson ninja-build \
    libglib2.0-dev libxml2-dev libgnutls28-dev \
    gettext python3 python3-docutils python3-libvirt libxml2-utils systemd \
    "libvirt-dev/$bpo" "libvirt0/$bpo" "libvirt-common/$bpo" \
    "libvirt-daemon/$bpo" "libvirt-daemon-common/$bpo" \
    "libvirt-daemon-driver-qemu/$bpo" "libvirt-daemon-driver-nodedev/$bpo" \
    "libvirt-daemon-lock/$bpo" "libvirt-daemon-log/$bpo" \
    "libvirt-daemon-plugin-lockd/$bpo" "libvirt-clients/$bpo" \
    "qemu-system-x86/$bpo" "qemu-system-common/$bpo" \
    "qemu-system-data/$bpo" "seabios/$bpo" \
    "$k61" "${k61/image/headers}" \
    "$k612/$bpo" "${k612/image/headers}/$bpo" \
    busybox-static cpio xz-utils kmod dkms openssl gnutls-bin \
    >/dev/null

echo "install-deps: ok ($k61, $k612, $(qemu-system-x86_64 --version | head -n 1))"
