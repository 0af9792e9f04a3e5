"""Moves the ladder model's weights between tensorcoder (TensorFlow) and
``ladder_torch.py`` (PyTorch), as ``.npz`` files of the arrays of
``VariableRateHyperpriorCodec.weights`` in order.

    # A training run's latest backup (or a model file) to .npz:
    python tools/torch_train/convert.py export RUN/model start.npz
    python tools/torch_train/convert.py export model.keras start.npz
    # A shipped model as references into its file (a few KB; see
    # start_weights.py),
    # at the ladder a run trains (rows of the gains at its λ), with the
    # run's validation images to leave out and the model's step:
    python tools/torch_train/convert.py export-refs \
        python/tensorcoder/image_codec/default_model/ladder-v2.keras start.npz \
        --run RUN/model --step 52000
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


def export_refs(keras_path: str, path: str, run: str, step: int) -> None:
  """Writes ``keras_path``'s weights at the ladder of the run in ``run``
  (its ``train_config.json``) to ``path``: every array that is a dataset of
  the file's ``model.weights.h5`` (the same shape and bytes, one such
  dataset only) as a reference to it, the others (the gains, when the
  ladders differ) inline; see ``start_weights.py``."""
  import h5py  # pylint: disable=g-import-not-at-top
  import start_weights  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import relevel  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
  config = train.run_config(run)
  if config.lmbdas is None:
    raise SystemExit(f"{run}: not a variable-rate run")
  shipped = codec.load_model(keras_path)
  model = _model(shipped.num_filters, shipped.num_latents,
                 shipped.num_hyper_filters, config.lmbdas)
  relevel.move_gains(shipped, model, shipped.lmbdas, config.lmbdas)
  stored = start_weights.open_weights(keras_path)
  datasets = {}
  stored.visititems(lambda name, item: datasets.setdefault(
      (item.shape, np.asarray(item[()]).tobytes()), []).append(name)
                    if isinstance(item, h5py.Dataset) else None)
  stored.close()
  out = {}
  for i, weight in enumerate(model.trainable_weights):
    value = np.asarray(weight.numpy())
    names = datasets.get((value.shape, value.tobytes()), [])
    if len(names) == 1:
      out[f"r{i:03d}"] = np.array(names[0])
    else:
      out[f"w{i:03d}"] = value
  _, validation = train.split_files(config)
  root = os.path.abspath(os.getcwd())
  relative = os.path.relpath(os.path.abspath(keras_path), root)
  np.savez(path, filters=model.num_filters, latents=model.num_latents,
           hyper=model.num_hyper_filters, lmbdas=np.array(model.lmbdas),
           step=np.int64(step), keras=np.array(relative),
           exclude=np.array([os.path.basename(f) for f in validation],
                            dtype=str), **out)
  inline = sum(key.startswith("w") for key in out)
  print(f"wrote {path}: {len(out) - inline} references into {relative}, "
        f"{inline} arrays inline, step {step}, {len(validation)} validation "
        "images to leave out")


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
  r = sub.add_parser("export-refs")
  r.add_argument("keras", help="a .keras file inside the repository (run "
                 "from its root)")
  r.add_argument("npz")
  r.add_argument("--run", required=True,
                 help="the training run's model folder (its ladder and "
                 "validation images)")
  r.add_argument("--step", type=int, required=True,
                 help="the step the model was trained to")
  i = sub.add_parser("import")
  i.add_argument("npz")
  i.add_argument("keras")
  args = parser.parse_args()
  if args.command == "export":
    export(args.source, args.npz)
  elif args.command == "export-refs":
    export_refs(args.keras, args.npz, args.run, args.step)
  else:
    import_(args.npz, args.keras)


if __name__ == "__main__":
  sys.exit(main())
