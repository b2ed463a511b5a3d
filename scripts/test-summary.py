#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Summarise meson test logs: TAP checks per suite, then one closing line
"N passed, N failed".  A skipped check or test counts as failed: every test
here must run wherever the README's commands ran."""
import json
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            out = t.get('stdout') or ''
            ok = len(re.findall(r'^ok \d+', out, re.M))
            bad = len(re.findall(r'^not ok \d+', out, re.M))
            skipped = len(re.findall(r'^ok \d+.*# ?SKIP', out, re.M | re.I))
            ok -= skipped
            bad += skipped
            if t['result'] != 'OK' and bad == 0:
                bad = 1        # crashed, timed out or skipped as a whole
            passed += ok
            failed += bad
            print('%-36s %-8s %4d checks passed, %d failed (%.1f s)' % (
                t['name'], t['result'], ok, bad, t.get('duration', 0)))
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed or not passed else 0)
