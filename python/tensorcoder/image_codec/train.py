"""Training of the image codec with ``model.fit`` under ``tf.distribute``.

    tensorcoder train --data ../shared/datasets/bsds500 --model-dir runs/hp \\
        --steps 200000 --patch-size 256 --batch-size 8

* Input: ``data.training_dataset`` (tf.data: files decoded in parallel,
  random crops and flips, prefetch) over the images ``--data`` names, less
  ``--validation-images`` held aside (default: a tenth, at most 16).
* Distribution: ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set
  (each worker runs the same command; ``--batch-size`` is the global batch),
  else ``MirroredStrategy`` over the local devices.
* Optimizer: Adam with a piecewise-constant learning rate: ``--learning-rate``
  for the first 80% of ``--steps``, a tenth of it for the last 20%.
* Precision: ``--precision mixed_bfloat16`` runs the transforms in bfloat16
  (weights, entropy models and the loss stay float32); on CPUs with AMX a
  step takes about half the time. The saved model's transforms compute in
  the precision they were trained in (its ``transform_dtype``; the hyper
  transforms and entropy models in float32): on the shipped ladder
  bfloat16 compresses a 768x512 image in 0.55 of the float32 time here,
  0.02-0.05 dB lower per level (bench/RESULTS.md).
  ``tensorcoder compress --precision`` overrides it.
* A Keras epoch is ``--checkpoint-every`` steps; ``--steps`` is the total.
  At the end of each full epoch ``BackupAndRestore`` writes
  ``MODEL_DIR/backup/``: a run started again with the same ``--model-dir``
  resumes from it (also after a finished run, to train it longer); the data
  stream continues where it was. The previous backup is kept beside it, and
  a run killed while writing the latest resumes from the previous one
  (``load_backup``). A variable-rate run resumed with other ``--lmbdas``
  keeps its transforms and gets each new level's gains interpolated from
  the old ladder (``relevel``).
* Quantization: the rate is always that of y plus uniform noise; with
  ``--quantization mixed`` the synthesis transform trains on y rounded as
  the decoder will see it (straight-through gradients) instead of on the
  noisy y (Minnen and Singh, ICIP 2020).
* Level modulation: with ``--lmbdas``, ``--level-modulation`` gives the
  model per-level scales and shifts of its transforms' hidden channels
  (``VariableRateHyperpriorCodec``'s ``level_modulation``), learned with the
  rest; a run started from a model without them starts from the identity.
* Capacity: ``--analysis-blocks N`` puts N residual blocks (two 3x3
  convolutions each, ``ResidualBlock``) in the analysis transform, before
  its last layer (the decoder neither stores nor runs them);
  ``--synthesis-blocks`` after the synthesis' first layer,
  ``--hyper-blocks`` before the hyper-synthesis' last. A run started from a
  model without them starts with them as the identity.
* Entropy model: ``--context checkerboard`` codes y in two passes, the
  anchors first, the other positions with locations and scales refined
  from the decoded anchors (``HyperpriorCodec``'s ``context``; He et al.,
  CVPR 2021). A run started from a model without it starts with a context
  whose output is zero, so the model first codes with the start's
  probabilities.
* Encoder-only training: ``--trainable encoder`` trains only the weights the
  encoder uses (``HyperpriorCodec.encoder_weights``: analysis and
  hyper-analysis transforms, a variable-rate model's gains and analysis
  modulation) and needs ``--start-from``: the decoder, its priors and its
  range-coding tables stay the start's bit for bit, so the new model's
  strings decode to the same pixels with the start's decoder.
* Fine-tuning: ``--start-from MODEL`` (a ``.keras`` file or a shipped
  model id, e.g. ``ladder-v7``, the default) starts a new run from that
  model's weights instead of random ones, with a new optimizer; the
  architecture flags must be the model's, and a variable-rate model's
  gains move to the run's ``--lmbdas`` as in ``relevel``. This is how a
  run continues on another machine from a model file alone.
* Validation: at the end of the epochs in which a multiple of
  ``--validate-every`` steps is passed, and at the end, the mean bpp and
  PSNR of the held-aside images (whole images center-cropped to multiples of
  64) from the model's own rate and distortion terms in evaluation mode
  (rounded latents, bits from the prior; no range coding), shown by the
  progress bar as ``val_bpp``/``val_psnr``.
* Progress: Keras' progress bar; TensorBoard logs in ``MODEL_DIR/logs`` when
  tensorboard is installed.
* Output: ``MODEL_DIR/model.keras``, written atomically by the chief (the
  worker with index 0) only: the trained model with frozen range-coding
  tables, ready for ``compress``/``decompress``. Other workers write only in
  a temporary folder, removed at the end.

Training is deterministic for a ``--seed`` (weights, crops, file order).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import math
import os
import shutil
import sys
import tempfile
import time
import zipfile
from typing import Callable, Optional, Sequence

from tensorcoder import _atomic
from tensorcoder.image_codec import precision as _precision


@dataclasses.dataclass
class TrainConfig:
  """What ``tensorcoder train`` takes (see ``add_arguments``)."""
  data: Sequence[str] = ("builtin",)
  model_dir: str = "tensorcoder_model"
  steps: int = 10000
  # 256, as TFC's examples: ladder-v4, trained on 128x128 patches (2x2
  # hyper-latents each), spent 4-25 % more bits on the main job's photographs
  # than ladder-v5, the same model trained 5000 steps on 256x256 patches, at
  # a slightly lower PSNR (default_model/README.md).
  patch_size: int = 256
  batch_size: int = 8
  lmbda: float = 0.01
  # Several λ (ascending): a variable-rate model with one quality level each
  # (``VariableRateHyperpriorCodec``); None: one model at ``lmbda``.
  lmbdas: Optional[Sequence[float]] = None
  learning_rate: float = 1e-4
  checkpoint_every: int = 500
  seed: int = 0
  num_filters: int = 64
  num_latents: int = 96
  num_hyper_filters: int = 64
  # None: a tenth of the images, at most 16.
  validation_images: Optional[int] = None
  validate_every: int = 1000
  # The Keras dtype policy of the transforms while training: "float32", or
  # "mixed_bfloat16" (bfloat16 convolutions, float32 weights, entropy models
  # and loss; about twice as fast on CPUs with AMX). The saved model computes
  # in float32 either way.
  precision: str = "float32"
  # A trained model (a .keras file or a shipped model id) whose weights a
  # new run starts from, instead of random ones; None: random. A run that
  # resumes from its backup ignores it.
  start_from: Optional[str] = None
  # What the synthesis transform trains on: "noise" (y plus uniform noise,
  # as the rate) or "mixed" (y rounded, with a straight-through gradient;
  # the rate keeps the noise): ``HyperpriorCodec.mixed_quantization``.
  quantization: str = "noise"
  # A variable-rate model's hidden layers scaled and shifted per level
  # (``VariableRateHyperpriorCodec``'s ``level_modulation``). A run started
  # from a model without it starts with the identity modulation.
  level_modulation: bool = False
  # What trains: "all" the weights, or the "encoder" only (the analysis and
  # hyper-analysis transforms, and a variable-rate model's gains and analysis
  # modulation): the decoder, its priors and so its range-coding tables stay
  # those of ``start_from`` (``HyperpriorCodec.encoder_weights``).
  trainable: str = "all"
  # Residual blocks in the analysis transform (``HyperpriorCodec``'s
  # ``analysis_blocks``). A run started from a model with fewer (none)
  # starts with the blocks it adds as the identity.
  analysis_blocks: int = 0
  # The same in the synthesis and hyper-synthesis transforms
  # (``synthesis_blocks``, ``hyper_blocks``): decoder capacity.
  synthesis_blocks: int = 0
  hyper_blocks: int = 0
  # A spatial context of the entropy model (``HyperpriorCodec``'s
  # ``context``): None, or "checkerboard". A run started from a model
  # without it starts with a context that changes nothing.
  context: Optional[str] = None


# The settings that put residual blocks in a transform (those of
# ``hyperprior.BLOCK_SETTINGS``, named here as this module loads without
# TensorFlow), and the transform each puts them in.
BLOCK_SETTINGS = ("analysis_blocks", "synthesis_blocks", "hyper_blocks")
_BLOCK_TRANSFORMS = dict(analysis_blocks="analysis",
                         synthesis_blocks="synthesis",
                         hyper_blocks="hyper_synthesis")

PRECISIONS = ("float32", "mixed_bfloat16")
QUANTIZATIONS = ("noise", "mixed")
TRAINABLE = ("all", "encoder")
# ``checkerboard.CONTEXTS`` (named here as this module loads without
# TensorFlow).
CONTEXTS = ("checkerboard",)


def learning_rate_schedule(learning_rate: float, steps: int):
  """``learning_rate`` for the first 80% of ``steps``, then a tenth."""
  import keras  # pylint: disable=g-import-not-at-top
  return keras.optimizers.schedules.PiecewiseConstantDecay(
      [max(int(0.8 * steps), 1)], [learning_rate, learning_rate / 10])


def split_files(config: TrainConfig) -> tuple[list[str], list[str]]:
  """``(training, validation)``: the image files of ``config.data``, less
  the ``validation_images`` (default: a tenth, at most 16) that the seeded
  split holds aside.

  Raises:
    ValueError (images.ImageError): no images, or a bad source.
  """
  from tensorcoder.image_codec import data  # pylint: disable=g-import-not-at-top
  files = data.image_files(config.data)
  held = config.validation_images
  if held is None:
    held = min(16, len(files) // 10)
  return data.split_validation(files, held, config.seed)


def _step(model) -> int:
  """The optimizer steps made so far."""
  return int(model.optimizer.iterations.numpy())


def make_strategy():
  """``MultiWorkerMirroredStrategy`` if ``TF_CONFIG`` is set, else
  ``MirroredStrategy`` over the local devices."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf_config = os.environ.get("TF_CONFIG")
  if tf_config:
    try:
      json.loads(tf_config)
    except ValueError as error:
      raise ValueError(f"TF_CONFIG is not valid JSON ({error})") from error
    return tf.distribute.MultiWorkerMirroredStrategy()
  return tf.distribute.MirroredStrategy()


def is_chief(strategy) -> bool:
  """Whether this task writes the outputs: the only one, the ``chief``, or
  worker 0 of a cluster without a chief."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == "chief":
    return True
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  return resolver.task_type == "worker" and resolver.task_id == 0 and (
      not has_chief)


def _callbacks(config: TrainConfig, backup_dir: str, write_dir: str,
               validation, chief: bool) -> list:
  """The Keras callbacks of a run (built lazily: keras is imported late)."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  class StopAtStep(keras.callbacks.Callback):
    """Stops when the optimizer has made ``config.steps`` steps (the last
    epoch may be partial)."""

    def on_train_batch_end(self, batch, logs=None):
      if _step(self.model) >= config.steps:
        self.model.stop_training = True

  class Backup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that keeps its backup after training (to train
    longer later) and backs up full epochs only, so that the restored epoch
    number is always the optimizer step / ``checkpoint_every``."""

    def __init__(self):
      # double_checkpoint: the previous backup stays beside the latest (as
      # "<name>.bkp"), since the latest is rewritten in place and a run
      # killed while writing it leaves a broken file (see load_backup).
      super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=False,
                       double_checkpoint=True)

    def on_epoch_end(self, epoch, logs=None):
      finite = math.isfinite((logs or {}).get("loss", 0.0))
      if finite and _step(self.model) % config.checkpoint_every == 0:
        super().on_epoch_end(epoch, logs)

  class Validation(keras.callbacks.Callback):
    """Mean bpp and PSNR of the held-aside images, added to the epoch logs
    as ``val_bpp`` and ``val_psnr``."""

    def __init__(self):
      super().__init__()
      self._last = None
      self._terms = None

    def on_train_begin(self, logs=None):
      self._last = _step(self.model)
      self._terms = tf.function(
          lambda image: self.model.rd_loss(image, training=False),
          reduce_retracing=True)
      self._level_terms = tf.function(
          lambda image, levels: self.model.rd_loss(image, training=False,
                                                   levels=levels),
          reduce_retracing=True)

    def on_epoch_end(self, epoch, logs=None):
      step = _step(self.model)
      due = (step // config.validate_every > self._last // config.validate_every
             or step >= config.steps)
      if not due or logs is None:
        return
      self._last = step
      levels = getattr(self.model, "num_qualities", None)
      for level in range(levels or 1):
        bpp, psnr = [], []
        for image in validation:
          terms = (self._terms(image) if levels is None else
                   self._level_terms(image, tf.constant([level])))
          bpp.append(float(terms["bpp"]))
          psnr.append(float(terms["psnr"]))
        suffix = "" if levels is None else f"_q{level + 1}"
        if bpp:
          logs["val_bpp" + suffix] = sum(bpp) / len(bpp)
          logs["val_psnr" + suffix] = sum(psnr) / len(psnr)

  callbacks = [StopAtStep(), keras.callbacks.TerminateOnNaN(), Backup()]
  if validation is not None and chief:
    callbacks.append(Validation())
  if importlib.util.find_spec("tensorboard") is not None:
    callbacks.append(keras.callbacks.TensorBoard(
        os.path.join(write_dir, "logs"), write_graph=False))
  return callbacks


def _check_lmbdas(values: Sequence[float]) -> None:
  lmbdas = [float(l) for l in values]
  if len(lmbdas) < 2 or any(not l > 0 for l in lmbdas) or any(
      b <= a for a, b in zip(lmbdas, lmbdas[1:])):
    raise ValueError(f"--lmbdas needs two or more positive values in "
                     f"ascending order, got {values}")


def train(config: TrainConfig, log: Callable[[str], None] = print) -> str:
  """Trains (or resumes) and returns the path of the final model file.

  Raises:
    ValueError: bad settings or data (nothing is written then).
    FloatingPointError: the loss became NaN or infinite (the backup of the
      last good epoch is kept; no model file is written).
  """
  from tensorcoder.image_codec import data  # pylint: disable=g-import-not-at-top
  from tensorcoder.models.hyperprior import HyperpriorCodec  # pylint: disable=g-import-not-at-top

  if config.lmbdas is not None:
    _check_lmbdas(config.lmbdas)
  elif config.level_modulation:
    raise ValueError("--level-modulation needs --lmbdas (a variable-rate "
                     "model)")
  if config.steps < 0 or config.batch_size < 1 or config.patch_size < 64:
    raise ValueError("need steps >= 0, batch_size >= 1, patch_size >= 64")
  if config.checkpoint_every < 1 or config.validate_every < 1:
    raise ValueError("need checkpoint_every >= 1 and validate_every >= 1")
  if config.quantization not in QUANTIZATIONS:
    raise ValueError(f"--quantization must be one of "
                     f"{', '.join(QUANTIZATIONS)}, got {config.quantization!r}")
  if config.trainable not in TRAINABLE:
    raise ValueError(f"--trainable must be one of {', '.join(TRAINABLE)}, "
                     f"got {config.trainable!r}")
  if (config.trainable == "encoder" and config.start_from is None and
      not _has_backup(config.model_dir)):
    raise ValueError("--trainable encoder needs --start-from (a trained "
                     "model whose decoder stays as it is)")
  for name in BLOCK_SETTINGS:
    if getattr(config, name) < 0:
      raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got "
                       f"{getattr(config, name)}")
  if config.context is not None and config.context not in CONTEXTS:
    raise ValueError(f"--context must be one of {', '.join(CONTEXTS)}, got "
                     f"{config.context!r}")
  if config.context is not None and config.trainable == "encoder":
    raise ValueError("--context adds to the decoder: it cannot train with "
                     "--trainable encoder")
  if config.precision not in PRECISIONS:
    raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, "
                     f"got {config.precision!r}")
  if config.patch_size % HyperpriorCodec.factor:
    raise ValueError(f"patch_size must be a multiple of "
                     f"{HyperpriorCodec.factor}")
  if config.start_from is not None and not _has_backup(config.model_dir):
    check_start(config)
  # All inputs are checked before the strategy starts or anything is written.
  training, validation = split_files(config)
  # Reading every size also checks that each file is an image.
  every = training + validation
  sizes = dict(zip(every, data.image_sizes(every)))
  small = [f for f in training if min(sizes[f]) < config.patch_size]
  training = [f for f in training if f not in small]
  if not training:
    raise ValueError(f"no training image is at least {config.patch_size}x"
                     f"{config.patch_size} pixels (the patch size)")

  previous = _ladder_change(config)
  if previous is not None:
    if os.environ.get("TF_CONFIG"):
      raise ValueError(f"{config.model_dir}: the run was trained with "
                       f"--lmbdas {' '.join(map(str, previous.lmbdas))}; "
                       "change its ladder with one worker (no TF_CONFIG)")
    from tensorcoder.image_codec import relevel  # pylint: disable=g-import-not-at-top
    relevel.relevel_backup(previous, config,
                           os.path.join(config.model_dir, "backup"), log=log)

  # TF ops may run only once the (multi-worker) strategy exists.
  strategy = make_strategy()
  replicas = strategy.num_replicas_in_sync
  if config.batch_size % replicas:
    raise ValueError(f"batch_size {config.batch_size} is not a multiple of "
                     f"the {replicas} replicas")
  chief = is_chief(strategy)
  # Only the chief writes into the model folder (as TF recommends).
  write_dir = config.model_dir if chief else tempfile.mkdtemp(
      prefix="tensorcoder_worker_")
  backup_dir = os.path.join(write_dir, "backup")
  try:
    if chief:
      os.makedirs(config.model_dir, exist_ok=True)
    else:  # Restore from the chief's backup, back up into the temp folder.
      shared = os.path.join(config.model_dir, "backup")
      if os.path.isdir(shared):
        shutil.copytree(shared, backup_dir)
    log(f"training on {len(training)} images"
        + (f", validating on {len(validation)}" if validation else "")
        + (f"; skipped {len(small)} smaller than the patch" if small else "")
        + f"; {replicas} replica(s)"
        + ("" if chief else " (not the chief: writes nothing)"))
    if (config.precision == _precision.BFLOAT16 and
        not _precision.native_bfloat16() and
        not any("GPU" in device
                for device in strategy.extended.worker_devices)):
      log("this CPU has no bfloat16 instructions (AVX512-BF16 or AMX) or "
          "oneDNN is off: its bfloat16 convolutions are several times "
          "slower than float32 ones (--precision float32 is faster here)")
    return _fit(config, strategy, chief, write_dir, backup_dir, training,
                validation, log)
  finally:
    if not chief:
      shutil.rmtree(write_dir, ignore_errors=True)


def _ladder_change(config: TrainConfig) -> Optional[TrainConfig]:
  """The settings of the run in ``config.model_dir`` when it has a backup
  and was trained with another ladder of λ than ``config`` asks for (both
  variable-rate); else None."""
  if config.lmbdas is None or not _has_backup(config.model_dir):
    return None
  try:
    previous = run_config(config.model_dir)
  except ValueError:
    return None
  if previous.lmbdas is None or _same_ladder(previous.lmbdas, config.lmbdas):
    return None
  return previous


def _has_backup(model_dir: str) -> bool:
  """Whether the run in ``model_dir`` has a backup to resume from."""
  backup = os.path.join(model_dir, "backup", BACKUP_WEIGHTS)
  return os.path.exists(backup) or os.path.exists(backup + PREVIOUS)


def _same_ladder(a: Sequence[float], b: Sequence[float]) -> bool:
  return [float(l) for l in a] == [float(l) for l in b]


def _fit(config: TrainConfig, strategy, chief: bool, write_dir: str,
         backup_dir: str, training: list, validation: list,
         log: Callable[[str], None]) -> str:
  """Builds the model, fits it and (chief) saves the final model."""
  import keras  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import data  # pylint: disable=g-import-not-at-top
  from tensorcoder.models.hyperprior import HyperpriorCodec  # pylint: disable=g-import-not-at-top

  keras.utils.set_random_seed(config.seed)
  with strategy.scope():
    model = _training_model(config)
  # BackupAndRestore restores the backup too; the step is needed here, to
  # start the data stream where it was.
  load_backup(model, backup_dir, repair=True, log=log)
  start = _step(model)
  if start >= config.steps > 0:
    log(f"the backup is at step {start}, not before --steps {config.steps}: "
        "nothing to train")
  elif start:
    log(f"resumed from {os.path.join(config.model_dir, 'backup')} at step "
        f"{start}")
  elif config.start_from is not None:
    _set_start_weights(model, config, log)
  if chief:
    write_run_config(config)

  def dataset_fn(context):
    return data.training_dataset(
        training, config.patch_size, config.batch_size, config.seed,
        start_step=start, num_shards=context.num_input_pipelines,
        shard_index=context.input_pipeline_id,
        replica_batch_size=context.get_per_replica_batch_size(
            config.batch_size))

  dataset = strategy.distribute_datasets_from_function(dataset_fn)
  checks = (data.validation_dataset(validation, HyperpriorCodec.factor)
            if validation else None)
  callbacks = _callbacks(config, backup_dir, write_dir, checks, chief)
  epochs = -(-config.steps // config.checkpoint_every)
  if start < config.steps:
    model.fit(dataset, epochs=epochs, steps_per_epoch=config.checkpoint_every,
              callbacks=callbacks, verbose=1 if chief else 0, shuffle=False)
  if model.stop_training and _step(model) < config.steps:
    raise FloatingPointError(
        f"the loss became NaN or infinite at step "
        f"{_step(model)}; lower the learning rate (the "
        "backup of the last full epoch is kept)")
  path = os.path.join(config.model_dir, "model.keras")
  if not chief:
    return path
  _save_final(config, model, path)
  log(f"saved {path} after {_step(model)} steps")
  return path


def _start_settings(start_from: str) -> tuple[str, dict]:
  """``(id, settings)`` of the model ``start_from`` (a ``.keras`` file or
  a shipped id), read from its ``config.json`` without TensorFlow.

  Raises:
    FileNotFoundError: neither a shipped id nor a file.
    ValueError: not a model file of tensorcoder's codecs.
  """
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  name, path = codec.model_path(start_from)
  try:
    with zipfile.ZipFile(path) as archive:
      saved = json.loads(archive.read("config.json"))
    kind, settings = saved["class_name"], saved["config"]
  except (OSError, KeyError, ValueError, TypeError,
          zipfile.BadZipFile) as error:
    raise ValueError(f"--start-from {start_from}: not a .keras model file "
                     f"({error})") from error
  if kind not in ("HyperpriorCodec", "VariableRateHyperpriorCodec"):
    raise ValueError(f"--start-from {name}: a {kind}, not a hyperprior "
                     "codec that train makes")
  return name, settings


def check_start(config: TrainConfig) -> None:
  """Raises ValueError (FileNotFoundError for a missing model) unless
  ``config.start_from`` is a model that ``config`` can start from: of the
  same kind (variable-rate with ``--lmbdas``, of two levels or more when the
  ladder changes) and sizes."""
  name, settings = _start_settings(config.start_from)
  start_lmbdas = settings.get("lmbdas")
  if (start_lmbdas is None) != (config.lmbdas is None):
    raise ValueError(
        f"--start-from {name} is a "
        + ("single-rate model: train it without --lmbdas"
           if start_lmbdas is None else
           f"variable-rate model: give --lmbdas (its own are "
           f"{' '.join(map(str, start_lmbdas))})"))
  sizes = ("num_filters", "num_latents", "num_hyper_filters")
  if any(settings.get(f) != getattr(config, f) for f in sizes):
    raise ValueError(
        f"--start-from {name} has "
        + " ".join(f"--{f.replace('_', '-')} {settings.get(f)}"
                   for f in sizes) + "; give the same")
  for setting in BLOCK_SETTINGS:
    blocks = settings.get(setting, 0)
    if blocks not in (0, getattr(config, setting)):
      raise ValueError(f"--start-from {name} has --"
                       f"{setting.replace('_', '-')} {blocks}: give the same")
  if settings.get("level_modulation") and not config.level_modulation:
    raise ValueError(f"--start-from {name} has level modulation: give "
                     "--level-modulation")
  if settings.get("context") not in (None, config.context):
    raise ValueError(f"--start-from {name} has --context "
                     f"{settings['context']}: give the same")
  if (start_lmbdas is not None and len(start_lmbdas) < 2 and
      not _same_ladder(start_lmbdas, config.lmbdas)):
    raise ValueError(f"--start-from {name} has one level; its gains cannot "
                     "move to another ladder")


def _set_start_weights(model, config: TrainConfig,
                       log: Callable[[str], None]) -> None:
  """Sets the training ``model`` from the trained model
  ``config.start_from`` (checked by ``check_start``): its weights, without
  its range-coding tables; a variable-rate model's gains moved to
  ``config.lmbdas``."""
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import relevel  # pylint: disable=g-import-not-at-top
  from tensorcoder.layers.residual import ResidualBlock  # pylint: disable=g-import-not-at-top
  start = codec.load_model(config.start_from)
  name = codec.model_id(config.start_from)
  # The start without its tables: the training model's layout.
  tables = {id(w) for w in start.z_coder.weights + start.y_coder.weights}
  settings = dict(start.get_config(), table_shapes=None)
  # A start without level modulation gets the identity one (zeros).
  added = config.level_modulation and not settings.get("level_modulation")
  if added:
    settings["level_modulation"] = True
  # A transform of the start without residual blocks gets identity ones.
  added_blocks = {setting: getattr(config, setting)
                  for setting in BLOCK_SETTINGS
                  if getattr(config, setting) and not settings.get(setting)}
  settings.update(added_blocks)
  # A start without a context gets one that changes nothing.
  added_context = config.context is not None and not settings.get("context")
  if added_context:
    settings["context"] = config.context
  plain = type(start).from_config(settings)
  plain.build()
  new = {id(w) for w in plain.modulation_weights} if added else set()
  if added_context:
    new.update(id(w) for w in plain.context_model.weights)
  for setting in added_blocks:
    transform = getattr(plain, _BLOCK_TRANSFORMS[setting])
    new.update(id(w) for layer in transform.layers
               if isinstance(layer, ResidualBlock) for w in layer.weights)
  targets = [w for w in plain.weights if id(w) not in new]
  values = [w.numpy() for w in start.weights if id(w) not in tables]
  if len(targets) != len(values) or any(
      tuple(t.shape) != v.shape for t, v in zip(targets, values)):
    raise ValueError(f"--start-from {name}: its weights do not fit the "
                     "model trained")
  for target, value in zip(targets, values):
    target.assign(value)
  if added:
    log(f"{name} has no level modulation: it starts as the identity")
  for setting, blocks in added_blocks.items():
    log(f"{name} has no residual blocks in its "
        f"{_BLOCK_TRANSFORMS[setting].replace('_', '-')}: the {blocks} "
        "added start as the identity")
  if added_context:
    log(f"{name} has no context: a {config.context} one is added that "
        "starts by changing nothing")
  start_lmbdas = getattr(start, "lmbdas", None)
  if start_lmbdas is None or _same_ladder(start_lmbdas, config.lmbdas):
    model.set_weights(plain.get_weights())
    log(f"starting from the weights of {name}")
    return
  relevel.move_gains(plain, model, start_lmbdas, config.lmbdas)
  log(f"starting from the weights of {name}, its gains moved from --lmbdas "
      f"{' '.join(map(str, start_lmbdas))} to "
      f"{' '.join(map(str, config.lmbdas))}")


def _codec(config: TrainConfig):
  """The model class and its settings for ``config``."""
  from tensorcoder.models.hyperprior import HyperpriorCodec  # pylint: disable=g-import-not-at-top
  from tensorcoder.models.variable_rate import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top
  settings = dict(num_filters=config.num_filters,
                  num_latents=config.num_latents,
                  num_hyper_filters=config.num_hyper_filters,
                  transform_dtype=config.precision,
                  **{name: getattr(config, name) for name in BLOCK_SETTINGS})
  if config.context is not None:
    settings["context"] = config.context
  if config.lmbdas is None:
    return HyperpriorCodec, dict(settings, lmbda=config.lmbda)
  return VariableRateHyperpriorCodec, dict(
      settings, lmbdas=tuple(config.lmbdas),
      level_modulation=config.level_modulation)


@contextlib.contextmanager
def _dtype_policy(name: str):
  """Layers created inside get the Keras dtype policy ``name``."""
  import keras  # pylint: disable=g-import-not-at-top
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)


def _training_model(config: TrainConfig):
  """A built, compiled model with its optimizer built (to load backups),
  computing in ``config.precision``."""
  import keras  # pylint: disable=g-import-not-at-top
  codec_class, settings = _codec(config)
  # Layers keep the policy they were created (and built) with; the global
  # policy is restored at once, so the final model (and anything else the
  # caller creates) computes in float32.
  with _dtype_policy(config.precision):
    model = codec_class(**settings)
    model.mixed_quantization = config.quantization == "mixed"
    model.build()
  if config.trainable == "encoder":
    encoder = {id(w) for w in model.encoder_weights()}
    for weight in model.trainable_weights:
      if id(weight) not in encoder:
        weight.trainable = False
  model.compile(optimizer=keras.optimizers.Adam(
      learning_rate_schedule(config.learning_rate, config.steps)),
                jit_compile=False)
  model.optimizer.build(model.trainable_variables)
  return model


def _save_final(config: TrainConfig, model, path: str,
                lmbdas: Optional[Sequence[float]] = None) -> None:
  """Saves a plain copy of ``model`` (no distributed variables, no
  optimizer) with frozen tables, atomically (complete or not at all); with
  ``lmbdas``, with that ladder (``relevel.move_gains``)."""
  if lmbdas is not None and _same_ladder(lmbdas, config.lmbdas):
    lmbdas = None
  target = config if lmbdas is None else dataclasses.replace(
      config, lmbdas=tuple(float(l) for l in lmbdas))
  codec_class, settings = _codec(target)
  final = codec_class(**settings)
  final.build()
  if lmbdas is None:
    final.set_weights(model.get_weights())
  else:
    from tensorcoder.image_codec import relevel  # pylint: disable=g-import-not-at-top
    relevel.move_gains(model, final, config.lmbdas, target.lmbdas)
  final.make_coders()
  _atomic.save_model_atomically(final, path)


def export_backup(model_dir: str, path: str,
                  lmbdas: Optional[Sequence[float]] = None) -> int:
  """Writes the latest backup of the run in ``model_dir`` as a model file
  with tables at ``path`` (also while that run goes on); returns its step.
  With ``lmbdas`` (a variable-rate run), the model gets that ladder: the
  trained transforms, and each level's gains interpolated, or extrapolated,
  by log λ from the trained levels (``relevel``).

  Raises:
    ValueError: ``model_dir`` has no ``train_config.json`` or no backup, or
      ``lmbdas`` is not an ascending ladder of two or more.
  """
  if lmbdas is not None:
    _check_lmbdas(lmbdas)
  config = run_config(model_dir)
  if lmbdas is not None and config.lmbdas is None:
    raise ValueError("--lmbdas with --export-backup needs a variable-rate "
                     "run")
  model = _training_model(config)
  if not load_backup(model, os.path.join(model_dir, "backup")):
    raise ValueError(f"{model_dir}: no training run with a backup here "
                     f"(train_config.json and backup/{BACKUP_WEIGHTS})")
  _save_final(config, model, path, lmbdas)
  return _step(model)


def write_run_config(config: TrainConfig) -> None:
  """Writes ``config`` as the settings of the run in ``config.model_dir``
  (read back by ``run_config``), atomically."""
  _atomic.write_bytes_atomically(
      os.path.join(config.model_dir, RUN_CONFIG),
      json.dumps(dataclasses.asdict(config), indent=2, default=list).encode())


def run_config(model_dir: str) -> TrainConfig:
  """The settings of the training run in ``model_dir``.

  Raises:
    ValueError: ``model_dir`` has no ``train_config.json``.
  """
  config_path = os.path.join(model_dir, RUN_CONFIG)
  if not os.path.exists(config_path):
    raise ValueError(f"{model_dir}: no training run with a backup here "
                     f"(train_config.json and backup/{BACKUP_WEIGHTS})")
  with open(config_path) as f:
    fields = json.load(f)
  known = {field.name for field in dataclasses.fields(TrainConfig)}
  return TrainConfig(**{k: v for k, v in fields.items() if k in known})


RUN_CONFIG = "train_config.json"
BACKUP_WEIGHTS = "latest.weights.h5"
BACKUP_METADATA = "training_metadata.json"
# BackupAndRestore(double_checkpoint=True) keeps the previous backup under
# these names plus this suffix.
PREVIOUS = ".bkp"


def _signature(path: str):
  status = os.stat(path)
  return status.st_mtime_ns, status.st_size


def load_backup(model, backup_dir: str, repair: bool = False,
                log: Optional[Callable[[str], None]] = None,
                attempts: int = 5) -> bool:
  """Loads the newest complete backup in ``backup_dir`` into ``model``
  (built, with its optimizer built); False when there is none.

  ``BackupAndRestore`` rewrites the latest backup in place, so a reader can
  find it half written: while the run writes it (``--export-backup`` during
  training), or for good when a run was killed in the middle of writing.
  A file that changes while it is read, or fails to load, is read again
  (``attempts`` times, a second apart); if it still fails, the previous
  backup is loaded, and with ``repair`` copied over the broken one (as
  ``BackupAndRestore`` does when it restores), so that the run resumes
  from it.

  Raises:
    OSError, ValueError: neither backup loads.
  """
  weights = os.path.join(backup_dir, BACKUP_WEIGHTS)
  previous = weights + PREVIOUS
  if not os.path.exists(weights):
    if not os.path.exists(previous):
      return False
    attempts = 0
  failure = None
  for attempt in range(attempts):
    if attempt:
      time.sleep(1)
    try:
      before = _signature(weights)
      model.load_weights(weights)
      if _signature(weights) == before:
        return True
    except (OSError, ValueError) as error:
      failure = error
  if not os.path.exists(previous):
    if failure is not None:
      raise failure
    raise OSError(f"{weights} kept changing while it was read")
  # Keras loads only files named *.weights.h5.
  if repair:
    shutil.copyfile(previous, weights)
    model.load_weights(weights)
    metadata = os.path.join(backup_dir, BACKUP_METADATA)
    if os.path.exists(metadata + PREVIOUS):
      shutil.copyfile(metadata + PREVIOUS, metadata)
  else:
    with tempfile.TemporaryDirectory() as scratch:
      copy = os.path.join(scratch, BACKUP_WEIGHTS)
      shutil.copyfile(previous, copy)
      model.load_weights(copy)
  if log is not None:
    log(f"{weights} is broken ({failure}); loaded the previous backup, "
        f"{previous}")
  return True


def main(argv: Optional[Sequence[str]] = None) -> int:
  import argparse  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  add_arguments(parser)
  return run(parser.parse_args(argv))


def add_arguments(parser) -> None:
  """The flags of ``tensorcoder train``."""
  defaults = TrainConfig()
  parser.add_argument("--data", nargs="+", default=list(defaults.data),
                      help="image folders (searched recursively), globs or "
                      "files; 'builtin' uses photographs shipped with "
                      "scikit-image")
  parser.add_argument("--model-dir", default=defaults.model_dir,
                      help="backup, logs and model.keras; a run started "
                      "again with the same folder resumes")
  parser.add_argument("--steps", type=int, default=defaults.steps,
                      help="total optimizer steps (also when resuming)")
  parser.add_argument("--patch-size", type=int, default=defaults.patch_size,
                      help="side of the square training patches, a multiple "
                      "of 64; images smaller than it are left out (default "
                      f"{defaults.patch_size}; 128 trains about 4 times "
                      "faster per step but codes large images worse)")
  parser.add_argument("--batch-size", type=int, default=defaults.batch_size,
                      help="patches per step, all replicas together")
  parser.add_argument("--lmbda", type=float, default=None,
                      help="the rate-distortion trade-off (weight of the "
                      f"MSE on the 0..255 scale; default {defaults.lmbda})")
  parser.add_argument("--lmbdas", type=float, nargs="+", default=None,
                      help="several ascending λ: train one variable-rate "
                      "model with a quality level for each (quality 1 is "
                      "the first); e.g. --lmbdas 0.0018 0.0035 0.0067 "
                      "0.013 0.025 0.0483. A run resumed with other "
                      "--lmbdas keeps its transforms and moves its gains "
                      "to the new ladder")
  parser.add_argument("--learning-rate", type=float,
                      default=defaults.learning_rate,
                      help="for the first 80%% of the steps, then a tenth")
  parser.add_argument("--checkpoint-every", type=int,
                      default=defaults.checkpoint_every,
                      help="steps per Keras epoch, each ending in a backup")
  parser.add_argument("--seed", type=int, default=defaults.seed)
  parser.add_argument("--num-filters", type=int,
                      default=defaults.num_filters)
  parser.add_argument("--num-latents", type=int,
                      default=defaults.num_latents)
  parser.add_argument("--num-hyper-filters", type=int,
                      default=defaults.num_hyper_filters)
  parser.add_argument("--export-backup", metavar="PATH", default=None,
                      help="train nothing: write the latest backup in "
                      "--model-dir as a model file with tables at PATH "
                      "(also while that run goes on); with --lmbdas, "
                      "with that ladder: levels not trained get gains "
                      "interpolated or extrapolated by log λ")
  parser.add_argument("--precision", choices=PRECISIONS,
                      default=defaults.precision,
                      help="the transforms' arithmetic while training: "
                      "mixed_bfloat16 computes the convolutions in bfloat16 "
                      "(about twice as fast on CPUs with AMX); weights, "
                      "entropy models and loss stay float32, and the saved "
                      "model computes in float32 (default float32)")
  parser.add_argument("--start-from", metavar="MODEL", default=None,
                      help="a trained model (.keras file or shipped model "
                      "id, e.g. ladder-v7) whose weights a new run starts "
                      "from (fine-tuning); the architecture flags must be "
                      "its own, and a variable-rate model's gains move to "
                      "--lmbdas. A run that resumes from its backup "
                      "ignores it")
  parser.add_argument("--quantization", choices=QUANTIZATIONS,
                      default=defaults.quantization,
                      help="what the synthesis transform trains on: noise "
                      "(y plus uniform noise, as the rate) or mixed (y "
                      "rounded as the decoder sees it, straight-through "
                      "gradients; the rate keeps the noise). Default "
                      "%(default)s")
  parser.add_argument("--level-modulation", action="store_true",
                      help="with --lmbdas: scale and shift the transforms' "
                      "hidden channels per quality level (learned), not "
                      "only y's gains; a run --start-from a model without "
                      "it starts from the identity")
  parser.add_argument("--trainable", choices=TRAINABLE,
                      default=defaults.trainable,
                      help="what trains: all the weights, or the encoder "
                      "only (analysis and hyper-analysis transforms, gains, "
                      "analysis modulation), with the decoder and its "
                      "tables kept as --start-from has them, so the new "
                      "model's files decode to the same pixels with the "
                      "start's decoder (default %(default)s)")
  parser.add_argument("--analysis-blocks", type=int,
                      default=defaults.analysis_blocks,
                      help="residual blocks (two 3x3 convolutions each) in "
                      "the analysis transform before its last layer: "
                      "encoder capacity the decoder does not run; a run "
                      "--start-from a model without them starts from the "
                      "identity (default %(default)s)")
  parser.add_argument("--synthesis-blocks", type=int,
                      default=defaults.synthesis_blocks,
                      help="residual blocks in the synthesis transform after "
                      "its first layer (decoder capacity; started as the "
                      "identity as --analysis-blocks)")
  parser.add_argument("--hyper-blocks", type=int,
                      default=defaults.hyper_blocks,
                      help="residual blocks in the hyper-synthesis transform "
                      "before its last layer (started as the identity)")
  parser.add_argument("--context", choices=CONTEXTS, default=None,
                      help="a spatial context in the entropy model: "
                      "checkerboard codes half of y's positions first and "
                      "refines the others' locations and scales from them "
                      "(He et al., CVPR 2021); a run --start-from a model "
                      "without it starts with a context that changes "
                      "nothing (default: none)")
  parser.add_argument("--validation-images", type=int, default=None,
                      help="images held aside for validation (default: a "
                      "tenth, at most 16)")
  parser.add_argument("--validate-every", type=int,
                      default=defaults.validate_every,
                      help="validate at the end of the epoch that passes "
                      "each multiple of this many steps")


def run(args) -> int:
  """Runs ``tensorcoder train`` with parsed ``args``."""
  if getattr(args, "export_backup", None):
    _atomic.check_writable(args.export_backup)
    step = export_backup(args.model_dir, args.export_backup,
                         getattr(args, "lmbdas", None))
    print(f"wrote {args.export_backup}: the backup of {args.model_dir} at "
          f"step {step}")
    return 0
  lmbdas = getattr(args, "lmbdas", None)
  if lmbdas is not None and args.lmbda is not None:
    raise ValueError("give --lmbda (one model) or --lmbdas (a variable-rate "
                     "model), not both")
  config = TrainConfig(
      data=tuple(args.data), model_dir=args.model_dir, steps=args.steps,
      patch_size=args.patch_size, batch_size=args.batch_size,
      lmbda=TrainConfig.lmbda if args.lmbda is None else args.lmbda,
      lmbdas=lmbdas,
      learning_rate=args.learning_rate,
      checkpoint_every=args.checkpoint_every, seed=args.seed,
      num_filters=args.num_filters, num_latents=args.num_latents,
      num_hyper_filters=args.num_hyper_filters,
      validation_images=getattr(args, "validation_images", None),
      validate_every=getattr(args, "validate_every", 1000),
      precision=getattr(args, "precision", TrainConfig.precision),
      start_from=getattr(args, "start_from", None),
      quantization=getattr(args, "quantization", TrainConfig.quantization),
      level_modulation=getattr(args, "level_modulation", False),
      trainable=getattr(args, "trainable", TrainConfig.trainable),
      context=getattr(args, "context", None),
      **{name: getattr(args, name, 0) for name in BLOCK_SETTINGS})
  train(config)
  return 0


if __name__ == "__main__":
  sys.exit(main())
