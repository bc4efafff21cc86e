"""coffea executors for ``jetml run``: iterative, futures (processes) and Dask.

Every executor gets the same chunk list and the same pickled processor; the processor's models
pickle as path + checksum, so each worker process opens one ONNX Runtime session per model on
its first chunk and reuses it for every later chunk (see docs/processor.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from coffea.processor import DaskExecutor, FuturesExecutor, IterativeExecutor
from coffea.processor.executor import ExecutorBase

from jetml.errors import ExecutorError

EXECUTORS: tuple[str, ...] = ("iterative", "futures", "dask")
# Address schemes a Dask scheduler listens on.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
SCHEDULER_TIMEOUT_S = 20


def default_workers() -> int:
    """One worker per core available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def open_executor(
    kind: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> Iterator[ExecutorBase]:
    """Yield a ready coffea executor of ``kind``; close any cluster it started on exit.

    ``dask`` starts a LocalCluster of ``workers`` processes with one thread each, or connects to
    the scheduler at ``scheduler`` (``tcp://HOST:PORT``) and leaves that cluster running.
    """
    if kind not in EXECUTORS:
        raise ExecutorError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if scheduler is not None and kind != "dask":
        raise ExecutorError(f"--scheduler {scheduler} needs the dask executor, not {kind}")
    if scheduler is not None:
        check_scheduler(scheduler)
    n_workers = default_workers() if workers is None else workers
    check_workers(n_workers)
    with _progress_shown(progress):
        yield from _executor(kind, n_workers, scheduler, progress)


def check_scheduler(address: str) -> None:
    """ExecutorError unless ``address`` looks like ``tcp://HOST:PORT`` (checked before any work)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError as error:
        raise ExecutorError(f"--scheduler {address!r}: not an address ({error})") from error
    if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None:
        raise ExecutorError(
            f"--scheduler {address!r}: not a scheduler address; expected "
            f"{'|'.join(SCHEDULER_SCHEMES)}://HOST:PORT"
        )


def check_workers(workers: int) -> None:
    """ExecutorError unless ``workers`` is a positive number of processes."""
    if workers < 1:
        raise ExecutorError(f"--workers must be at least 1, got {workers}")


@contextmanager
def _progress_shown(progress: bool) -> Iterator[None]:
    """Silence coffea's own progress bars when ``progress`` is off.

    coffea's futures and Dask executors draw their rich bars whatever ``status`` says, and the
    iterative one still starts a live display: all of them print through one console.
    """
    from coffea.util import coffea_console

    quiet = coffea_console.quiet
    coffea_console.quiet = quiet or not progress
    try:
        yield
    finally:
        coffea_console.quiet = quiet


def _executor(
    kind: str, n_workers: int, scheduler: str | None, progress: bool
) -> Iterator[ExecutorBase]:
    """The body of :func:`open_executor` once the arguments are checked."""
    if kind == "iterative":
        yield IterativeExecutor(status=progress)
    elif kind == "futures":
        yield FuturesExecutor(workers=n_workers, status=progress)
    else:
        with _dask_client(n_workers, scheduler) as client:
            # retries=0: a chunk whose input is bad fails the same way every time. Chunks lost
            # with a dead worker are rescheduled by the scheduler itself, independently of this.
            yield DaskExecutor(client=client, status=progress, retries=0)


@contextmanager
def _dask_client(workers: int, scheduler: str | None) -> Iterator[object]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except Exception as error:  # OSError, TimeoutError, ValueError from distributed
            first = (str(error).strip().splitlines() or [""])[0]
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {scheduler} ({type(error).__name__}: {first})"
            ) from error
        try:
            yield client
        finally:
            client.close()
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
