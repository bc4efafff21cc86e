"""Run a :class:`TaggerProcessor` over a fileset on any executor and account for every chunk."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jetml.errors import ExecutorError, InputFileError
from jetml.processor.chunks import BadFile, Chunk, plan_chunks, run_chunk
from jetml.processor.executors import default_workers, open_executor
from jetml.processor.processor import TaggerProcessor
from jetml.taggers.base import Tagger


@dataclass(frozen=True)
class RunOptions:
    """How to run: executor kind, parallelism, chunking and bad-file policy."""

    executor: str = "iterative"
    workers: int | None = None
    chunksize: int = 100_000
    scheduler: str | None = None
    skip_bad_files: bool = False
    progress: bool = True


@dataclass
class RunResult:
    """The merged processor output plus what was planned, skipped and how long it took."""

    output: dict[str, Any]
    options: RunOptions
    wall_seconds: float
    chunks: list[Chunk]
    bad_files: list[BadFile] = field(default_factory=list)
    input_warnings: list[str] = field(default_factory=list)  # printed once per run

    @property
    def processed_events(self) -> int:
        """Events of every chunk that was processed."""
        return int(sum(self.output["events"].values()))

    @property
    def skipped(self) -> list[str]:
        """One line per skipped chunk or unopenable file, naming it and the cause."""
        lines = [f"{bad.reason} (whole file)" for bad in self.bad_files]
        lines += [record[-1] for record in sorted(self.output["failed_chunks"])]
        return lines

    @property
    def worker_processes(self) -> int:
        """Distinct processes (host, pid) that ran chunks."""
        return len(self.output["processes"])

    @property
    def sessions_created(self) -> int:
        """ONNX Runtime sessions created during the run, all processes and models together."""
        return len(self.output["sessions"])

    @property
    def workers(self) -> int:
        """Worker count: 1 for the iterative executor, the processes seen on an external Dask
        cluster, otherwise the requested count (default one per core)."""
        if self.options.executor == "iterative":
            return 1
        if self.options.scheduler is not None:
            return self.worker_processes
        return self.options.workers or default_workers()


def run_processor(
    fileset: Mapping[str, Sequence[str]],
    taggers: Sequence[Tagger] | TaggerProcessor,
    options: RunOptions | None = None,
) -> RunResult:
    """Process every chunk of ``fileset`` with the taggers on the executor in ``options``.

    Raises InputFileError naming the file and entry range of the first unreadable chunk, unless
    ``options.skip_bad_files``: then the run finishes and :attr:`RunResult.skipped` lists what was
    left out (the processed events are exactly those of the good chunks).
    """
    options = options or RunOptions()
    processor = taggers if isinstance(taggers, TaggerProcessor) else TaggerProcessor(taggers)
    started = time.perf_counter()
    plan = plan_chunks(fileset, options.chunksize, skip_bad_files=options.skip_bad_files)
    accumulator = processor.empty_output(fileset)
    with open_executor(
        options.executor,
        workers=options.workers,
        scheduler=options.scheduler,
        progress=options.progress,
    ) as executor:
        merged = executor(plan.chunks, partial(run_chunk, processor=processor), accumulator)
    # coffea executors return the accumulator alone when there is nothing to do.
    output = merged[0] if isinstance(merged, tuple) else merged
    output = processor.postprocess(output)
    result = RunResult(
        output,
        options,
        time.perf_counter() - started,
        plan.chunks,
        plan.bad_files,
        plan.warnings,
    )
    _check_accounting(result)
    return result


def _check_accounting(result: RunResult) -> None:
    """Every planned chunk came back processed or failed; failures raise unless skipped."""
    done = {key[:4] for key in result.output["failed_chunks"]} | result.output["chunks"]
    missing = [chunk for chunk in result.chunks if chunk.key not in done]
    if missing:
        raise ExecutorError(
            f"{len(missing)} chunk(s) never came back from the executor, first: "
            f"{missing[0].describe()}"
        )
    failures = sorted(result.output["failed_chunks"])
    if failures and not result.options.skip_bad_files:
        more = f" (and {len(failures) - 1} more failing chunks)" if len(failures) > 1 else ""
        raise InputFileError(f"{failures[0][-1]}{more}; rerun with --skip-bad-files to skip them")
