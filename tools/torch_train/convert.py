"""Moves the ladder model's weights between tensorcoder (TensorFlow) and
``ladder_torch.py`` (PyTorch), as ``.npz`` files of the arrays of
``VariableRateHyperpriorCodec.weights`` in order.

    # A training run's latest backup (or a model file) to .npz:
    python tools/torch_train/convert.py export RUN/model start.npz
    python tools/torch_train/convert.py export model.keras start.npz
    # Trained .npz to a model file with range-coding tables:
    python tools/torch_train/convert.py import trained.npz ladder.keras

Run with the project's environment (TensorFlow); ``ladder_torch.py`` needs
only PyTorch, numpy and Pillow.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import numpy as np

META = ("filters", "latents", "hyper", "lmbdas")


def _model(filters, latents, hyper, lmbdas):
  from tensorcoder.models import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top
  model = VariableRateHyperpriorCodec(
      num_filters=int(filters), num_latents=int(latents),
      num_hyper_filters=int(hyper), lmbdas=tuple(float(l) for l in lmbdas))
  model.build()
  return model


def load_source(source: str):
  """The model of a ``.keras`` file, or of the latest backup of the
  training run in the folder ``source`` (its ``train_config.json``)."""
  if os.path.isdir(source):
    from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
    config = train.run_config(source)
    if config.lmbdas is None:
      raise SystemExit(f"{source}: not a variable-rate run")
    model = train._training_model(  # pylint: disable=protected-access
        dataclasses.replace(config, precision="float32"))
    if not train.load_backup(model, os.path.join(source, "backup")):
      raise SystemExit(f"{source}: no backup")
    _, validation = train.split_files(config)
    return model, int(model.optimizer.iterations.numpy()), validation
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  return codec.load_model(source), 0, []


def export(source: str, path: str) -> None:
  """Writes the weights of ``source`` (see ``load_source``) to ``path``,
  with the run's step and the names of its validation images (which the
  PyTorch trainer then leaves out too)."""
  model, step, validation = load_source(source)
  arrays = {f"w{i:03d}": w.numpy() for i, w in
            enumerate(model.trainable_weights)}
  np.savez(path, filters=model.num_filters, latents=model.num_latents,
           hyper=model.num_hyper_filters, lmbdas=np.array(model.lmbdas),
           step=np.int64(step),
           paths=np.array([w.path for w in model.trainable_weights]),
           exclude=np.array([os.path.basename(f) for f in validation],
                            dtype=str),
           **arrays)
  print(f"wrote {path}: {len(arrays)} arrays at step {step}, "
        f"{len(validation)} validation images to leave out")


def to_model(path: str):
  """A ``VariableRateHyperpriorCodec`` with the weights of ``path``, its
  tables made."""
  saved = np.load(path)
  model = _model(*(saved[k] for k in META))
  variables = model.trainable_weights
  arrays = [saved[f"w{i:03d}"] for i in range(len(variables))]
  for variable, array in zip(variables, arrays):
    if tuple(variable.shape) != array.shape:
      raise SystemExit(f"{path}: {variable.path} has shape "
                       f"{tuple(variable.shape)}, the file {array.shape}")
    variable.assign(array)
  model.make_coders()
  return model


def import_(path: str, target: str) -> None:
  from tensorcoder import _atomic  # pylint: disable=g-import-not-at-top
  model = to_model(path)
  _atomic.save_model_atomically(model, target)
  print(f"wrote {target}")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  sub = parser.add_subparsers(dest="command", required=True)
  e = sub.add_parser("export")
  e.add_argument("source")
  e.add_argument("npz")
  i = sub.add_parser("import")
  i.add_argument("npz")
  i.add_argument("keras")
  args = parser.parse_args()
  if args.command == "export":
    export(args.source, args.npz)
  else:
    import_(args.npz, args.keras)


if __name__ == "__main__":
  sys.exit(main())
