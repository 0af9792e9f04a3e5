"""Training speed of the image codec in float32 and mixed_bfloat16.

    python bench/train_step_bench.py [--filters 128] [--steps 8] [--rounds 3]
        [--model-dir RUN/model]

Builds the training model of ``tensorcoder train`` (``train._training_model``:
the six-level variable-rate hyperprior, 128 filters, 192 latents, 128 hyper
channels by default) once per precision, and times optimizer steps on the
same synthetic batch of 8 patches of 128x128, alternating the two
precisions round by round so that both see the same machine load. Prints
seconds per step (median over rounds) and the ratio.

It also prints (on ``--model-dir``'s backup, if given) how far the two
precisions' rate-distortion terms are apart on the same weights
(evaluation mode, one smooth 256x256 image): what separates the validation
a ``--precision mixed_bfloat16`` run reports from the float32 model it
saves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top

PRECISIONS = ("float32", "mixed_bfloat16")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--filters", type=int, default=128)
  parser.add_argument("--latents", type=int, default=192)
  parser.add_argument("--steps", type=int, default=8,
                      help="timed steps per round and precision")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--model-dir", default=None,
                      help="a training run of this architecture: compare "
                      "the precisions on its backup's weights (default: "
                      "the initial weights)")
  args = parser.parse_args()

  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  batch = tf.constant(rng.integers(0, 256, (8, 128, 128, 3)), tf.float32)
  models, steps = {}, {}
  for precision in PRECISIONS:
    config = train.TrainConfig(
        lmbdas=(0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.0483),
        num_filters=args.filters, num_latents=args.latents,
        num_hyper_filters=args.filters, precision=precision, steps=10**6)
    models[precision] = model = train._training_model(config)  # pylint: disable=protected-access
    steps[precision] = tf.function(model.train_step)
    steps[precision](batch)  # Tracing, not timed.
  times = {precision: [] for precision in PRECISIONS}
  for _ in range(args.rounds):
    for precision in PRECISIONS:
      start = time.perf_counter()
      for _ in range(args.steps):
        logs = steps[precision](batch)
      float(logs["loss"])
      times[precision].append((time.perf_counter() - start) / args.steps)
  for precision in PRECISIONS:
    print(f"{precision:15s} {statistics.median(times[precision]):.3f} s/step "
          f"(rounds: {', '.join(f'{t:.3f}' for t in times[precision])})")
  ratio = (statistics.median(times["float32"]) /
           statistics.median(times["mixed_bfloat16"]))
  print(f"mixed_bfloat16 is {ratio:.2f}x as fast as float32")

  # The same weights in both precisions: evaluation-mode terms.
  if args.model_dir:
    weights = os.path.join(args.model_dir, "backup", "latest.weights.h5")
    for model in models.values():
      model.load_weights(weights)
  models["mixed_bfloat16"].set_weights(models["float32"].get_weights())
  y, x = np.mgrid[:256, :256]
  smooth = 128 + 100 * np.sin(x / 17.0) * np.cos(y / 23.0)
  image = tf.constant(np.repeat(smooth[None, ..., None], 3, -1), tf.float32)
  levels = getattr(models["float32"], "num_qualities")
  for level in range(levels):
    terms = {p: models[p].rd_loss(image, training=False,
                                  levels=tf.constant([level]))
             for p in PRECISIONS}
    print(f"q{level + 1}: bpp {float(terms['float32']['bpp']):.4f} (float32) "
          f"vs {float(terms['mixed_bfloat16']['bpp']):.4f}, PSNR "
          f"{float(terms['float32']['psnr']):.2f} vs "
          f"{float(terms['mixed_bfloat16']['psnr']):.2f} dB")


if __name__ == "__main__":
  main()
