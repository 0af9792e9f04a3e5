"""Moving a training run of the variable-rate codec to another ladder of λ.

A run of ``VariableRateHyperpriorCodec`` resumed with other ``--lmbdas``
than it was trained with would otherwise fail to load its backup (another
number of levels) or, worse, go on training each level's gains for a λ
they were not trained for. ``train`` converts the backup first
(``relevel_backup``):

* the transforms, priors and their Adam moments are kept as they are, and
  so is the step (the learning-rate schedule goes on);
* each new level's gains are those of its λ on the old ladder: the log
  gains of the two old levels around it, interpolated linearly in log λ
  (the geometric interpolation ``VariableRateHyperpriorCodec.gains`` uses
  for fractional qualities), extrapolated from the two end levels beyond
  the old range;
* the gains' Adam moments are interpolated the same way, with the weights
  clipped to the old range (a second moment stays non-negative).

The old backup is kept beside the new one, as ``backup.lmbdas-<step>``.

The same conversion, without the optimizer, gives a trained model levels it
was not trained at: ``tensorcoder train --model-dir RUN --export-backup
M.keras --lmbdas ...`` (``train.export_backup``) writes the run's backup
with another ladder, e.g. levels below the trained ones whose gains are
extrapolated.
"""

from __future__ import annotations

import os
import shutil
from typing import Callable, Sequence

import numpy as np


def positions(old: Sequence[float], new: Sequence[float]
             ) -> list[tuple[int, int, float]]:
  """For each λ of ``new``: ``(low, high, weight)``, the two neighbouring
  levels of the ascending ladder ``old`` (at least two) and the weight of
  ``high`` by log λ, so that ``(1 - weight) * old_log[low] + weight *
  old_log[high]`` interpolates; the weight is below 0 or above 1 outside
  the old range, and exactly 0 or 1 for a λ of ``old``."""
  logs = np.log(np.asarray(old, np.float64))
  if len(logs) < 2:
    raise ValueError("the old ladder needs two or more levels")
  result = []
  for value in np.log(np.asarray(new, np.float64)):
    high = int(np.clip(np.searchsorted(logs, value), 1, len(logs) - 1))
    low = high - 1
    result.append((low, high, float((value - logs[low]) /
                                    (logs[high] - logs[low]))))
  return result


def _rows(values: np.ndarray, mapping, clip: bool) -> np.ndarray:
  """Rows of ``values`` [Q_old, ...] blended per ``mapping``."""
  rows = []
  for low, high, weight in mapping:
    if clip:
      weight = min(max(weight, 0.0), 1.0)
    rows.append((1 - weight) * values[low] + weight * values[high])
  return np.stack(rows).astype(values.dtype)


def _slots(model) -> list[tuple[object, object]]:
  """``(momentum, velocity)`` of each trainable variable of ``model``, whose
  Adam optimizer is built; ValueError if its variables are not laid out as
  ``[iterations, m_0, v_0, m_1, v_1, ...]`` (another Keras)."""
  variables = model.trainable_variables
  slots = model.optimizer.variables
  if len(slots) != 1 + 2 * len(variables):
    raise ValueError(f"unexpected optimizer layout: {len(slots)} variables "
                     f"for {len(variables)} weights")
  pairs = []
  for i, variable in enumerate(variables):
    momentum, velocity = slots[1 + 2 * i], slots[2 + 2 * i]
    name = variable.name
    if not (tuple(momentum.shape) == tuple(velocity.shape) ==
            tuple(variable.shape) and name in momentum.name and
            name in velocity.name):
      raise ValueError(f"unexpected optimizer layout at {variable.path}")
    pairs.append((momentum, velocity))
  return pairs


def move_gains(old, new, old_lmbdas: Sequence[float],
               new_lmbdas: Sequence[float], optimizer: bool = False) -> None:
  """Sets the built ``VariableRateHyperpriorCodec`` ``new`` (ladder
  ``new_lmbdas``) from ``old`` (ladder ``old_lmbdas``, same transforms): the
  same transforms and priors, each new level's gains by log λ on the old
  ladder (``positions``); with ``optimizer``, also the Adam moments (the
  gains' interpolated with clipped weights) and the step. A level-modulated
  model's modulation moves as the gains, but only interpolated: a level
  beyond the old ladder gets the modulation of the end level."""
  mapping = positions(old_lmbdas, new_lmbdas)
  gains = {id(old.log_gain), id(old.log_inverse_gain)}
  modulation = {id(w) for w in getattr(old, "modulation_weights", [])}
  if len(modulation) != len(getattr(new, "modulation_weights", [])):
    raise ValueError("one of the two models has level modulation, the "
                     "other not")
  pairs = list(zip(old.trainable_variables, new.trainable_variables))
  if len(pairs) != len(new.trainable_variables) or len(pairs) != len(
      old.trainable_variables):
    raise ValueError("the two models differ in more than their ladder")
  slots = (list(zip(_slots(old), _slots(new))) if optimizer
           else [None] * len(pairs))
  for (source, target), slot in zip(pairs, slots):
    moved = id(source) in gains or id(source) in modulation
    target.assign(_rows(source.numpy(), mapping,
                        clip=id(source) in modulation) if moved
                  else source)
    if slot is None:
      continue
    for a, b in zip(*slot):
      b.assign(_rows(a.numpy(), mapping, clip=True) if moved else a)
  if optimizer:
    new.optimizer.iterations.assign(old.optimizer.iterations)


def relevel_backup(old_config, config, backup_dir: str,
                   log: Callable[[str], None] = print) -> bool:
  """Converts the backup in ``backup_dir`` of a run trained with
  ``old_config`` (a ``train.TrainConfig``) to ``config``, which differs in
  its ``lmbdas`` only; writes ``config`` as the run's ``train_config.json``.
  Returns False (and changes nothing) when there is no backup.

  Raises:
    ValueError: the configurations differ in more than the ladder, or one
      of them is not variable-rate.
  """
  from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
  if old_config.lmbdas is None or config.lmbdas is None:
    raise ValueError("only a variable-rate run (--lmbdas) can change its "
                     "ladder")
  fixed = ("num_filters", "num_latents", "num_hyper_filters")
  changed = [f for f in fixed
             if getattr(old_config, f) != getattr(config, f)]
  if changed:
    raise ValueError(f"{config.model_dir}: the run was trained with other "
                     f"{', '.join('--' + f.replace('_', '-') for f in changed)}"
                     "; start it in a new --model-dir")
  old = train._training_model(old_config)  # pylint: disable=protected-access
  if not train.load_backup(old, backup_dir, repair=True, log=log):
    return False
  new = train._training_model(config)  # pylint: disable=protected-access
  move_gains(old, new, old_config.lmbdas, config.lmbdas, optimizer=True)
  step = train._step(old)  # pylint: disable=protected-access
  keep = f"{backup_dir}.lmbdas-{step}"
  if os.path.exists(keep):
    shutil.rmtree(keep)
  shutil.copytree(backup_dir, keep)
  weights = os.path.join(backup_dir, train.BACKUP_WEIGHTS)
  scratch = os.path.join(backup_dir, "relevel.weights.h5")
  new.save_weights(scratch)
  os.replace(scratch, weights)
  shutil.copyfile(weights, weights + train.PREVIOUS)
  metadata = os.path.join(backup_dir, train.BACKUP_METADATA)
  if os.path.exists(metadata):
    shutil.copyfile(metadata, metadata + train.PREVIOUS)
  train.write_run_config(config)
  log(f"moved the backup of step {step} from --lmbdas "
      f"{' '.join(map(str, old_config.lmbdas))} to "
      f"{' '.join(map(str, config.lmbdas))} (gains interpolated by log λ; "
      f"the old backup is kept in {keep})")
  return True
