"""How many threads an embedding runtime uses: one for a question, every core for a batch.

One question's embedding is too small to gain from a second thread, and a runtime's threads
spin waiting on each other whenever other work holds a core (see ``torch_threads`` in
config.py for the measurements).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def torch_threads(setting: int) -> int:
    """Threads torch uses to embed a query (the ``torch_threads`` setting decided).

    ``setting`` > 0 is taken as is; 0 (automatic) is 1. One question's embedding is too small to
    gain from a second thread, and torch's threads spin waiting on each other whenever other work
    holds a core (see ``torch_threads`` in config.py for the measurements). Batches of documents
    use ``batch_threads`` instead (every core unless ``ingest_threads`` is set).
    """
    if setting < 0:
        raise ValueError(f"torch_threads is {setting}: give 0 (automatic) or a number of threads")
    return setting or 1


def available_cpus() -> int | None:
    """The cores this process may run on (its affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def batch_threads(query_threads: int, setting: int = 0) -> int:
    """Threads torch uses for a batch of documents (the ``ingest_threads`` setting decided):
    ``setting`` > 0 as is; 0 (automatic) every core, and never fewer than for a question."""
    if setting < 0:
        raise ValueError(f"ingest_threads is {setting}: give 0 (every core) or a number of threads")
    return setting or max(query_threads, available_cpus() or 1)


def use_torch_threads(setting: int) -> int:
    """Make torch use ``torch_threads(setting)`` threads in this thread (and in threads that
    start torch later); returns the threads torch now uses here.

    torch keeps the count per thread, taken when a thread first runs an operation, so
    ``LocalEmbeddings`` checks it again before each query (``_embed_one``).
    """
    import torch

    threads = torch_threads(setting)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return int(torch.get_num_threads())


@contextmanager
def threads_for_batch(threads: int) -> Iterator[int]:
    """``threads`` for the block (an ingest's batch of documents), then the count there was before."""
    import torch

    before = torch.get_num_threads()
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
