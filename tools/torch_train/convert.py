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
# ladder_torch.SETTINGS: the architecture beyond the sizes, as integers
# (0 when a file has no such key: the models before them).
SETTINGS = ("modulation", "analysis_blocks", "synthesis_blocks",
            "hyper_blocks", "context")


def _model(filters, latents, hyper, lmbdas, modulation=0, analysis_blocks=0,
           synthesis_blocks=0, hyper_blocks=0, context=0,
           transform_dtype=None):
  from tensorcoder.models import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top
  model = VariableRateHyperpriorCodec(
      num_filters=int(filters), num_latents=int(latents),
      num_hyper_filters=int(hyper), lmbdas=tuple(float(l) for l in lmbdas),
      level_modulation=bool(modulation), analysis_blocks=int(analysis_blocks),
      synthesis_blocks=int(synthesis_blocks), hyper_blocks=int(hyper_blocks),
      context="checkerboard" if int(context) else None,
      transform_dtype=transform_dtype)
  model.build()
  return model


def settings(model) -> dict:
  """``SETTINGS`` of a ``VariableRateHyperpriorCodec``."""
  if model.context not in (None, "checkerboard"):
    raise SystemExit(f"ladder_torch.py has no {model.context!r} context")
  return dict(modulation=np.int64(model.level_modulation),
              analysis_blocks=np.int64(model.analysis_blocks),
              synthesis_blocks=np.int64(model.synthesis_blocks),
              hyper_blocks=np.int64(model.hyper_blocks),
              context=np.int64(model.context is not None))


def _saved_settings(saved) -> dict:
  return {k: int(saved[k]) for k in SETTINGS if k in saved}


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
           step=np.int64(step), **settings(model),
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
                 shipped.num_hyper_filters, config.lmbdas, **settings(shipped))
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
           step=np.int64(step), keras=np.array(relative), **settings(model),
           exclude=np.array([os.path.basename(f) for f in validation],
                            dtype=str), **out)
  inline = sum(key.startswith("w") for key in out)
  print(f"wrote {path}: {len(out) - inline} references into {relative}, "
        f"{inline} arrays inline, step {step}, {len(validation)} validation "
        "images to leave out")


def to_model(path: str, transform_dtype=None):
  """A ``VariableRateHyperpriorCodec`` with the weights of ``path`` (its
  architecture as the file's ``SETTINGS`` say), its transforms in the
  dtype policy ``transform_dtype`` (None: float32), its tables made."""
  saved = np.load(path)
  model = _model(*(saved[k] for k in META), **_saved_settings(saved),
                 transform_dtype=transform_dtype)
  variables = model.trainable_weights
  arrays = [saved[f"w{i:03d}"] for i in range(len(variables))]
  for variable, array in zip(variables, arrays):
    if tuple(variable.shape) != array.shape:
      raise SystemExit(f"{path}: {variable.path} has shape "
                       f"{tuple(variable.shape)}, the file {array.shape}")
    variable.assign(array)
  model.make_coders()
  return model


def import_(path: str, target: str, transform_dtype=None) -> None:
  from tensorcoder import _atomic  # pylint: disable=g-import-not-at-top
  model = to_model(path, transform_dtype)
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
  i.add_argument("--transform-dtype", default=None,
                 help="the transforms' dtype policy, e.g. mixed_bfloat16 "
                 "(as the shipped models since ladder-v3; default float32)")
  args = parser.parse_args()
  if args.command == "export":
    export(args.source, args.npz)
  elif args.command == "export-refs":
    export_refs(args.keras, args.npz, args.run, args.step)
  else:
    import_(args.npz, args.keras, args.transform_dtype)


if __name__ == "__main__":
  sys.exit(main())
