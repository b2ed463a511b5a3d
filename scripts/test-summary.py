#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Summarise meson test logs: TAP checks per suite, then the failed checks
with the comment lines around each (what the test printed about it),
then one closing line "N passed, N failed".  A skipped check or test counts
as failed: every test here must run wherever the README's commands ran.
The failures come last so that a log cut to its tail still shows them."""
import json
import re
import sys

CONTEXT = 12        # comment lines kept before a failed check
WIDTH = 400         # characters kept of each line

passed = failed = 0
failures = []
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
                failures.append((t['name'], ['(%s, no failed check printed; '
                                 'last lines:)' % t['result']] +
                                 (out + (t.get('stderr') or '')
                                  ).splitlines()[-CONTEXT:]))
            passed += ok
            failed += bad
            print('%-36s %-8s %4d checks passed, %d failed (%.1f s)' % (
                t['name'], t['result'], ok, bad, t.get('duration', 0)))
            if bad:
                lines = out.splitlines()
                for i, l in enumerate(lines):
                    if not (l.startswith('not ok ') or
                            re.match(r'^ok \d+.*# ?SKIP', l, re.I)):
                        continue
                    j = i
                    while j > 0 and i - j < CONTEXT and \
                            lines[j - 1].startswith('#'):
                        j -= 1
                    k = i + 1
                    while k < len(lines) and k - i <= 2 * CONTEXT and \
                            lines[k].startswith('#'):
                        k += 1
                    failures.append((t['name'], lines[j:k]))
if failures:
    print()
    print('== failed checks, each with what its test printed around it')
    for name, lines in failures:
        print('-- %s' % name)
        for l in lines:
            print('   ' + l[:WIDTH])
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed or not passed else 0)
