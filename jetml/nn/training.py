"""CPU training loop: seeded shuffling, Adam, validation-based early stopping, rich progress.

:func:`fit` trains any :class:`jetml.nn.base.TaggerNet` on its own ``training_loss``;
:func:`jetml.nn.deepak8_md.fit_adversarial` runs the alternating updates of the mass-decorrelated
DeepAK8 through the same epoch loop (:func:`run_epochs`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from jetml.nn.base import TaggerNet
from jetml.nn.data import ArrayDataset


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and run settings of one training."""

    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 3
    """Stop after this many epochs without a validation-loss improvement."""
    min_delta: float = 0.0
    """Smallest decrease of the validation loss that counts as an improvement."""
    seed: int = 0
    threads: int = 1
    """torch intra-op threads during training."""
    progress: bool = True
    """Show a rich progress bar with the running loss."""


@dataclass
class TrainResult:
    """What happened: per-epoch losses, the epoch whose weights were kept, wall time."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_loss: float = float("inf")
    stopped_early: bool = False
    seconds: float = 0.0


def seed_everything(seed: int) -> None:
    """Seed torch's global generator (weight initialisation, dropout); call it before building
    a network so its initial weights come from the seed too."""
    torch.manual_seed(seed)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch intra-op threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def to_tensors(data: ArrayDataset, names: tuple[str, ...]) -> tuple[torch.Tensor, ...]:
    """The dataset's inputs ``names`` as float32 tensors, in that order."""
    missing = [n for n in names if n not in data.inputs]
    if missing:
        raise KeyError(f"dataset lacks model input(s) {missing}")
    return tuple(torch.as_tensor(np.asarray(data.inputs[n], dtype=np.float32)) for n in names)


def batches(n_rows: int, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices per batch, shuffled by ``rng`` (None: in order). A trailing batch of a single
    row is dropped when shuffling, because batch normalisation cannot train on one row."""
    order = rng.permutation(n_rows) if rng is not None else np.arange(n_rows)
    parts = [order[i : i + batch_size] for i in range(0, n_rows, batch_size)]
    if rng is not None and parts and len(parts[-1]) < 2:
        parts.pop()
    return parts


def progress_bar(enabled: bool) -> Progress:
    """A rich progress bar showing epoch, batches done and the running loss."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )


def evaluate_loss(
    loss_fn: Callable[[tuple[torch.Tensor, ...], torch.Tensor], torch.Tensor],
    inputs: tuple[torch.Tensor, ...],
    target: torch.Tensor,
    batch_size: int,
) -> float:
    """Row-weighted mean of ``loss_fn`` over the data, without gradients."""
    total, rows = 0.0, 0
    with torch.no_grad():
        for index in batches(len(target), batch_size, rng=None):
            idx = torch.as_tensor(index)
            loss = loss_fn(tuple(x[idx] for x in inputs), target[idx])
            total += float(loss) * len(index)
            rows += len(index)
    return total / max(rows, 1)


class EarlyStopping:
    """Keeps the best weights seen on validation and says when patience has run out."""

    def __init__(self, modules: list[torch.nn.Module], patience: int, min_delta: float) -> None:
        self.modules, self.patience, self.min_delta = modules, patience, min_delta
        self.best_loss, self.best_epoch, self.waited = float("inf"), -1, 0
        self.best_state: list[dict] = []

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record this epoch's validation loss; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.waited = val_loss, epoch, 0
            self.best_state = [copy.deepcopy(m.state_dict()) for m in self.modules]
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self) -> None:
        """Load the best weights back into the modules."""
        for module, state in zip(self.modules, self.best_state, strict=False):
            module.load_state_dict(state)


def run_epochs(
    module: torch.nn.Module,
    config: TrainConfig,
    n_train: int,
    rng: np.random.Generator,
    train_step: Callable[[torch.Tensor], float],
    validate: Callable[[], dict[str, float]],
    stopper: EarlyStopping,
    progress: Progress,
    result: TrainResult,
) -> None:
    """The epoch loop every training shares: shuffled batches, ``train_step`` on each (it returns
    the batch loss), then ``validate`` in eval mode (its ``val_loss`` drives early stopping; the
    other entries join the epoch's history record). Ends with the best epoch's weights restored,
    ``module`` in eval mode and the best epoch and loss in ``result``."""
    for epoch in range(config.epochs):
        module.train()
        parts = batches(n_train, config.batch_size, rng)
        task = progress.add_task(f"epoch {epoch + 1}/{config.epochs}", total=len(parts), loss=0.0)
        running, rows = 0.0, 0
        for index in parts:
            running += train_step(torch.as_tensor(index)) * len(index)
            rows += len(index)
            progress.update(task, advance=1, loss=running / rows)
        module.eval()
        record = validate()
        result.history.append({"epoch": epoch, "train_loss": running / max(rows, 1), **record})
        progress.update(task, description=f"epoch {epoch + 1} val {record['val_loss']:.4f}")
        if stopper.update(epoch, record["val_loss"]):
            result.stopped_early = epoch + 1 < config.epochs
            break
    stopper.restore()
    module.eval()
    result.best_epoch, result.best_val_loss = stopper.best_epoch, stopper.best_loss


def fit(
    model: TaggerNet,
    train: ArrayDataset,
    val: ArrayDataset,
    config: TrainConfig,
) -> TrainResult:
    """Train ``model`` on ``train`` with Adam, keep the weights of the best validation epoch.

    Reproducible: weights, dropout and batch order derive from ``config.seed``. Leaves the model
    in eval mode with the best weights loaded.
    """
    if len(train) < 2 or len(val) < 1:
        raise ValueError(f"need >= 2 training and >= 1 validation rows ({len(train)}, {len(val)})")
    result = TrainResult()
    start = time.perf_counter()
    with torch_threads(config.threads):
        seed_everything(config.seed)
        rng = np.random.default_rng(config.seed)
        names = model.input_names
        train_x, val_x = to_tensors(train, names), to_tensors(val, names)
        train_y, val_y = torch.as_tensor(train.target), torch.as_tensor(val.target)
        optimizer = torch.optim.Adam(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        stopper = EarlyStopping([model], config.patience, config.min_delta)

        def train_step(idx: torch.Tensor) -> float:
            loss = model.training_loss(tuple(x[idx] for x in train_x), train_y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return float(loss.detach())

        def validate() -> dict[str, float]:
            return {"val_loss": evaluate_loss(model.training_loss, val_x, val_y, config.batch_size)}

        with progress_bar(config.progress) as progress:
            run_epochs(
                model, config, len(train), rng, train_step, validate, stopper, progress, result
            )
    result.seconds = time.perf_counter() - start
    return result


def predict(model: TaggerNet, data: ArrayDataset, batch_size: int = 1024) -> np.ndarray:
    """Model outputs (``forward``: probabilities or regression values) for every row, eval mode."""
    model.eval()
    inputs = to_tensors(data, model.input_names)
    outputs = []
    with torch.no_grad():
        for index in batches(len(data), batch_size, rng=None):
            idx = torch.as_tensor(index)
            outputs.append(model(*(x[idx] for x in inputs)).numpy())
    if not outputs:
        return np.zeros((0, len(model.output_labels)), dtype=np.float32)
    return np.concatenate(outputs)
