"""Work that allocates many short-lived objects: a bulk import, a chunk of scorecards."""

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused meanwhile.

    Such work allocates tens of thousands of short-lived objects without reference
    cycles (reference counting frees them). With the collector on, they set off many
    collections and, as they outlive those, full collections of the whole process
    (figures: benchmarks/RESULTS.md).
    """
    if not gc.isenabled():  # already paused, e.g. by a concurrent request in this process
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
