"""Pytest plugin of the fault proofs: counts faults injected and what was lost, and prints them.

Loaded through `pytest_plugins` by test_worker_faults.py and test_broker_down.py
(tests/reliability/conftest.py belongs to the tenancy matrix and has its own summary).
"""

from collections import Counter

# kind of fault → times injected
FAULTS: Counter = Counter()
# what a fault could have lost → amount found missing or duplicated (must stay 0)
LOST: Counter = Counter()


def pytest_terminal_summary(terminalreporter):
    if not FAULTS:
        return
    terminalreporter.section("worker and broker faults")
    terminalreporter.write_line(f"faults injected: {sum(FAULTS.values())}")
    for kind, count in sorted(FAULTS.items()):
        terminalreporter.write_line(f"  {kind}: {count}")
    terminalreporter.write_line(f"lost or duplicated: {sum(LOST.values())}")
    for kind, count in sorted(LOST.items()):
        terminalreporter.write_line(f"  {kind}: {count}")
