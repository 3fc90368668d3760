"""The fault proofs' counts: faults injected and what was lost, printed at the end of the run
by tests/reliability/conftest.py."""

from collections import Counter

# kind of fault → times injected
FAULTS: Counter = Counter()
# what a fault could have lost → amount found missing or duplicated (must stay 0)
LOST: Counter = Counter()


def write_summary(terminalreporter):
    if not FAULTS:
        return
    terminalreporter.section("worker and broker faults")
    terminalreporter.write_line(f"faults injected: {sum(FAULTS.values())}")
    for kind, count in sorted(FAULTS.items()):
        terminalreporter.write_line(f"  {kind}: {count}")
    terminalreporter.write_line(f"lost or duplicated: {sum(LOST.values())}")
    for kind, count in sorted(LOST.items()):
        terminalreporter.write_line(f"  {kind}: {count}")
