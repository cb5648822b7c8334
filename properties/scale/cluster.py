"""Pools of workers: a task is a module-level function and plain data (scenarios, frontiers, seeds),
never a live engine, so it runs the same in this process, on a ``LocalCluster`` or on a remote worker.

:meth:`Pool.map` returns the results in the order of its inputs, whatever worker ran each and in
whatever order they finished: callers merge in that order, so their output does not depend on the
number of workers.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

A = TypeVar("A")
R = TypeVar("R")

Progress = Callable[[int], None]
"""Called with the number of items just finished (for a progress bar)."""


class ClusterError(Exception):
    """The pool asked for cannot be had (Dask missing, a scheduler unreachable): one line for the user."""


class Pool(Protocol):
    @property
    def workers(self) -> int:
        """How many workers the tasks are spread over."""
        ...

    @property
    def where(self) -> str:
        """What the pool is, for a report line."""
        ...

    @property
    def cpu(self) -> dict[str, float]:
        """CPU seconds the tasks have taken so far, per worker (their own thread's, not the worker's upkeep)."""
        ...

    def map(
        self, fn: Callable[..., R], items: Sequence[Any], *shared: Any, progress: Progress | None = None,
        batches: int | None = None, prefer: Sequence[str | None] | None = None,
    ) -> list[R]:
        """``[fn(item, *shared) for item in items]``, in that order; ``shared`` is sent to each worker once.

        ``batches``: run the items as about that many tasks per worker instead of one task each (for short
        items, whose per-task upkeep would otherwise count); task ``k`` of ``n`` takes items ``k, k + n, ...``,
        so that items whose cost grows along the list spread evenly. ``prefer``: per item, the worker
        (:func:`worker_name`) it should run on if it can (where an earlier task left something it can reuse);
        a task whose worker is gone or busy may run elsewhere, so the result must not depend on it."""
        ...


class _Items:
    """A task's items (or shared values), opaque to Dask: it would otherwise walk every nested list and tuple
    of them, looking for futures, in this process, for every task."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


def _measured(fn: Callable[..., R], items: _Items, shared: _Items) -> tuple[list[R], float, str]:
    """Run one task (one item or a batch of them) with the values all items share; the results, the CPU
    seconds of the thread that ran it, and the worker."""
    started = time.thread_time()
    results = [fn(item, *shared.items) for item in items.items]
    return results, time.thread_time() - started, worker_name()


def _strided(count: int, batches: int) -> list[range]:
    """``batches`` interleaved slices of ``range(count)`` (none empty)."""
    batches = max(1, min(batches, count))
    return [range(k, count, batches) for k in range(batches)]


class InProcess:
    """No cluster: the tasks run one after the other in this process (the single-process path)."""

    workers = 1
    where = "this process"

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}

    def map(
        self, fn: Callable[..., R], items: Sequence[Any], *shared: Any, progress: Progress | None = None,
        batches: int | None = None, prefer: Sequence[str | None] | None = None,
    ) -> list[R]:
        results = []
        for item in items:
            [result], cpu, worker = _measured(fn, _Items([item]), _Items(list(shared)))
            results.append(result)
            self.cpu[worker] = self.cpu.get(worker, 0.0) + cpu
            if progress is not None:
                progress(1)
        return results


class DaskPool:
    """A Dask ``distributed.Client``: of a ``LocalCluster`` it started, or connected to a scheduler."""

    def __init__(self, client: Any, where: str) -> None:
        self.client = client
        self.where = where
        self.cpu: dict[str, float] = {}
        self.maps: list[list[float]] = []
        """Per map, the CPU seconds of each task in the order submitted (what the benchmark models from)."""

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def map(
        self, fn: Callable[..., R], items: Sequence[Any], *shared: Any, progress: Progress | None = None,
        batches: int | None = None, prefer: Sequence[str | None] | None = None,
    ) -> list[R]:
        from distributed import as_completed

        if not items:
            return []
        slices = _strided(len(items), batches * self.workers) if batches else _strided(len(items), len(items))
        # The shared values go with each task (they are small: a configuration, a factory, digests), not
        # scattered first: that is one round trip to the workers less per map.
        sent = _Items(list(shared))
        # One submission per preferred worker (one for all without a preference).
        groups: dict[str | None, list[int]] = {}
        for n, part in enumerate(slices):
            groups.setdefault(None if prefer is None else prefer[part[0]], []).append(n)
        futures: list[Any] = [None] * len(slices)
        for wanted, numbers in groups.items():
            where: dict[str, Any] = {} if wanted is None else {"workers": [wanted], "allow_other_workers": True}
            submitted = self.client.map(_measured, [fn] * len(numbers),
                                        [_Items([items[k] for k in slices[n]]) for n in numbers],
                                        [sent] * len(numbers), pure=False, **where)
            for n, future in zip(numbers, submitted, strict=True):
                futures[n] = future
        number = {future.key: n for n, future in enumerate(futures)}
        measured: list[Any] = [None] * len(slices)
        try:
            # On this client's loop: without it, as_completed takes the last client made's, and waiting there
            # for a result of another client's (two pools open at once) never ends.
            finished = as_completed(futures, loop=self.client.loop, with_results=True)  # type: ignore[no-untyped-call]
            for future, result in finished:
                measured[number[future.key]] = result
                if progress is not None:
                    progress(len(slices[number[future.key]]))
        finally:
            for future in futures:
                future.release()
        results: list[Any] = [None] * len(items)
        self.maps.append([cpu for _, cpu, _ in measured])
        for part, (result, cpu, worker) in zip(slices, measured, strict=True):
            self.cpu[worker] = self.cpu.get(worker, 0.0) + cpu
            for k, value in zip(part, result, strict=True):
                results[k] = value
        return results


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError("Dask is not installed: pip install 'sessionspec[dask]'") from None
    return distributed


@contextmanager
def pool(workers: int | None = None, scheduler: str | None = None, *, processes: bool = True) -> Iterator[Pool]:
    """The pool for ``--workers``/``--scheduler``: neither gives :class:`InProcess`; ``scheduler`` connects to
    that Dask scheduler (its workers, however many); ``workers`` alone starts a ``LocalCluster`` of that many
    single-threaded workers (processes, or threads of this process with ``processes=False``: cheap, for tests)."""
    if scheduler is None and workers is None:
        yield InProcess()
        return
    distributed = _distributed()
    import dask

    # A LocalCluster's scheduler sends each worker one task at a time (Dask's default sends 1.1 per thread,
    # rounded up: two, so that at the end of a map one worker may wait on its second task while the other
    # idles); a task is long against the round trip that brings the next.
    with dask.config.set({"logging.distributed": "error", "distributed.scheduler.worker-saturation": 1.0}):
        if scheduler is not None:
            try:  # parsed before a Client exists: one that fails to parse it is left half made, its close timing out
                distributed.comm.get_address_host_port(scheduler)
            except ValueError as error:  # not an address (no port, an unknown scheme)
                raise ClusterError(f"--scheduler {scheduler}: not a scheduler address: {error}") from None
            try:
                client = distributed.Client(scheduler, timeout="5s")
            except (OSError, TimeoutError) as error:
                raise ClusterError(f"--scheduler {scheduler}: cannot connect: {error}") from None
            except ValueError as error:  # an address the comm layer refuses later on
                raise ClusterError(f"--scheduler {scheduler}: not a scheduler address: {error}") from None
            with client:
                if workers is not None:
                    client.wait_for_workers(workers, timeout=60)
                yield DaskPool(client, f"the Dask scheduler at {scheduler}")
            return
        assert workers is not None
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0",
            memory_limit=None, silence_logs=50,  # not even a worker's heartbeat failing as the cluster closes
        )
        with cluster, distributed.Client(cluster) as client:
            kind = "processes" if processes else "threads"
            yield DaskPool(client, f"a LocalCluster of {workers} worker {kind}")


def worker_name() -> str:
    """The Dask worker running this task (its address), or this host and process outside Dask."""
    distributed = sys.modules.get("distributed")  # a Dask worker has imported it; no need to pay for it here
    if distributed is not None:
        try:
            return str(distributed.get_worker().address)
        except ValueError:
            pass
    return f"{socket.gethostname()}/{os.getpid()}"
