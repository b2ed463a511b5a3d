#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/bench-steer.sh: the benchmark tests/bench/bench-steer.sh (libvirt's
# downtime of virsh migrate, stock against steered by virt-vfmigd) as a VM
# suite; not one of the test suites, meson runs it as the benchmark
# vm-bench-steer-6.1.
# vm-needs: testdev-ko
# vm-testdevs: 8

. "$VM_SRCDIR/../bench/bench-steer.sh"
