"""Training of the image codec: random patches, the rate-distortion loss,
a progress bar, checkpoints, resumption, and the frozen final model.

    tensorcoder train --data builtin --model-dir runs/hp --steps 20000

writes ``runs/hp/checkpoint*`` every ``--checkpoint-every`` steps (a run
started again with the same ``--model-dir`` resumes from the latest) and,
at the end, ``runs/hp/model.keras``: the trained model with frozen
range-coding tables, ready for ``compress``/``decompress``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from typing import Optional, Sequence

import numpy as np

from tensorcoder import _atomic


@dataclasses.dataclass
class TrainConfig:
  data: Sequence[str] = ("builtin",)
  model_dir: str = "tensorcoder_model"
  steps: int = 10000
  patch_size: int = 128
  batch_size: int = 8
  lmbda: float = 0.01
  learning_rate: float = 1e-4
  checkpoint_every: int = 500
  seed: int = 0
  num_filters: int = 64
  num_latents: int = 96
  num_hyper_filters: int = 64


def _progress(step: int, total: int, terms: dict, rate: float,
              stream=sys.stderr) -> None:
  width = 24
  done = int(width * step / max(total, 1))
  bar = "#" * done + "." * (width - done)
  stream.write(f"\r[{bar}] {step}/{total} loss {terms['loss']:.4f} "
               f"bpp {terms['bpp']:.4f} PSNR {terms['psnr']:.2f} dB "
               f"{rate:.2f} steps/s ")
  stream.flush()


def train(config: TrainConfig, log=print) -> str:
  """Trains (or resumes) and returns the path of the final model file."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import images as image_io  # pylint: disable=g-import-not-at-top
  from tensorcoder.models.hyperprior import HyperpriorCodec  # pylint: disable=g-import-not-at-top

  if config.steps < 0 or config.batch_size < 1 or config.patch_size < 64:
    raise ValueError("need steps >= 0, batch_size >= 1, patch_size >= 64")
  if config.patch_size % HyperpriorCodec.factor:
    raise ValueError(f"patch_size must be a multiple of "
                     f"{HyperpriorCodec.factor}")
  paths = image_io.expand(config.data)
  pictures = [image_io.load(p) for p in paths]
  os.makedirs(config.model_dir, exist_ok=True)  # Only once inputs are good.
  log(f"training on {len(pictures)} images: "
      f"{', '.join(os.path.basename(p) for p in paths)}")

  keras.utils.set_random_seed(config.seed)
  model = HyperpriorCodec(num_filters=config.num_filters,
                          num_latents=config.num_latents,
                          num_hyper_filters=config.num_hyper_filters,
                          lmbda=config.lmbda)
  model.build()
  optimizer = keras.optimizers.Adam(config.learning_rate)
  optimizer.build(model.trainable_variables)
  step = tf.Variable(0, dtype=tf.int64, trainable=False)
  checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer,
                                   step=step)
  manager = tf.train.CheckpointManager(checkpoint, config.model_dir,
                                       max_to_keep=2)
  if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint).expect_partial()
    log(f"resumed from {manager.latest_checkpoint} at step {int(step)}")
  with open(os.path.join(config.model_dir, "train_config.json"), "w") as f:
    json.dump(dataclasses.asdict(config), f, indent=2, default=list)

  variables = model.trainable_variables

  @tf.function(jit_compile=False, reduce_retracing=True)
  def train_step(batch):
    with tf.GradientTape() as tape:
      terms = model.rd_loss(batch, training=True)
    gradients = tape.gradient(terms["loss"], variables)
    optimizer.apply_gradients(zip(gradients, variables))
    return terms

  rng = np.random.default_rng(config.seed + int(step))
  start, start_step = time.time(), int(step)
  smoothed = None
  while int(step) < config.steps:
    batch = image_io.random_patches(pictures, config.patch_size,
                                    config.batch_size, rng)
    terms = {k: float(v) for k, v in train_step(tf.constant(batch)).items()}
    if not np.isfinite(terms["loss"]):
      raise FloatingPointError(f"the loss became {terms['loss']} at step "
                               f"{int(step)}; lower the learning rate")
    smoothed = terms if smoothed is None else {
        k: 0.98 * smoothed[k] + 0.02 * terms[k] for k in terms}
    step.assign_add(1)
    done = int(step)
    rate = (done - start_step) / max(time.time() - start, 1e-9)
    if done % 10 == 0 or done == config.steps:
      _progress(done, config.steps, smoothed, rate)
    if done % config.checkpoint_every == 0 or done == config.steps:
      manager.save(checkpoint_number=done)
  sys.stderr.write("\n")
  model.make_coders()
  path = os.path.join(config.model_dir, "model.keras")
  _atomic.save_model_atomically(model, path)  # Complete or not at all.
  log(f"saved {path}")
  return path


def main(argv: Optional[Sequence[str]] = None) -> int:
  import argparse  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(description=__doc__)
  add_arguments(parser)
  return run(parser.parse_args(argv))


def add_arguments(parser) -> None:
  defaults = TrainConfig()
  parser.add_argument("--data", nargs="+", default=list(defaults.data),
                      help="image folders, globs or files; 'builtin' uses "
                      "photographs shipped with scikit-image")
  parser.add_argument("--model-dir", default=defaults.model_dir)
  parser.add_argument("--steps", type=int, default=defaults.steps)
  parser.add_argument("--patch-size", type=int, default=defaults.patch_size)
  parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
  parser.add_argument("--lmbda", type=float, default=defaults.lmbda)
  parser.add_argument("--learning-rate", type=float,
                      default=defaults.learning_rate)
  parser.add_argument("--checkpoint-every", type=int,
                      default=defaults.checkpoint_every)
  parser.add_argument("--seed", type=int, default=defaults.seed)
  parser.add_argument("--num-filters", type=int,
                      default=defaults.num_filters)
  parser.add_argument("--num-latents", type=int,
                      default=defaults.num_latents)
  parser.add_argument("--num-hyper-filters", type=int,
                      default=defaults.num_hyper_filters)


def run(args) -> int:
  config = TrainConfig(
      data=tuple(args.data), model_dir=args.model_dir, steps=args.steps,
      patch_size=args.patch_size, batch_size=args.batch_size,
      lmbda=args.lmbda, learning_rate=args.learning_rate,
      checkpoint_every=args.checkpoint_every, seed=args.seed,
      num_filters=args.num_filters, num_latents=args.num_latents,
      num_hyper_filters=args.num_hyper_filters)
  train(config)
  return 0


if __name__ == "__main__":
  sys.exit(main())
