"""The coffea processor that applies jetml taggers, and the runner behind ``jetml run``."""

from jetml.processor.processor import TaggerProcessor
from jetml.processor.runner import RunOptions, RunResult, run_processor

__all__ = ["RunOptions", "RunResult", "TaggerProcessor", "run_processor"]
