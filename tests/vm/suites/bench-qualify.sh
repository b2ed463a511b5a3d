#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/bench-qualify.sh: the benchmark tests/bench/bench-qualify-predict.sh
# (device-qualify's predicted against measured downtime on vfmig_testdev)
# as a VM suite; not one of the test suites, meson runs it as the benchmark
# vm-bench-qualify-6.12.
# vm-needs: testdev-ko
# vm-testdevs: 1

. "$VM_SRCDIR/../bench/bench-qualify-predict.sh"
