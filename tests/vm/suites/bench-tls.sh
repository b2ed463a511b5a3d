#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/bench-tls.sh: the benchmark tests/bench/bench-tls.sh (the device
# state's transfer, plain virsh migrate against virsh migrate --tls) as a
# VM suite; not one of the test suites, meson runs it as the benchmark
# vm-bench-tls-6.1.
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/../bench/bench-tls.sh"
