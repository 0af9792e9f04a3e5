"""Reads the starting weights ``ladder_torch.py`` trains from: an ``.npz``
written by ``convert.py``, torch-free and TensorFlow-free (numpy, and h5py
for references).

Each array ``i`` of ``VariableRateHyperpriorCodec.trainable_weights`` is
either in the file itself (``w000``, ``w001``, ...; ``convert.py export``)
or a reference: ``r000`` names a dataset of the ``model.weights.h5``
inside the ``.keras`` file whose path, relative to the repository root, is
``keras`` (``convert.py export-refs``). References let a device call start
from a model shipped in the package, which travels with the working tree
anyway, instead of carrying a second 20 MiB copy of its weights.
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np


def open_weights(keras_path: str):
  """The ``model.weights.h5`` inside the ``.keras`` file ``keras_path``, as
  an open, read-only ``h5py.File`` (close it when done)."""
  import h5py  # pylint: disable=g-import-not-at-top
  with zipfile.ZipFile(keras_path) as archive:
    data = archive.read("model.weights.h5")
  return h5py.File(io.BytesIO(data), "r")


def count(saved) -> int:
  """How many weight arrays the loaded ``.npz`` ``saved`` holds."""
  return sum(1 for key in saved.files
             if len(key) == 4 and key[0] in "wr" and key[1:].isdigit())


def arrays(saved, root: str) -> list[np.ndarray]:
  """The weight arrays of the loaded ``.npz`` ``saved``, in order; the
  ``.keras`` file of references is looked up under ``root``.

  Raises:
    ValueError: an array is missing, or a reference is not in the file.
  """
  total = count(saved)
  weights = None
  result = []
  try:
    for i in range(total):
      inline, ref = f"w{i:03d}", f"r{i:03d}"
      if inline in saved.files:
        result.append(np.asarray(saved[inline]))
        continue
      if ref not in saved.files:
        raise ValueError(f"array {i} of {total} is missing")
      if weights is None:
        weights = open_weights(os.path.join(root, str(saved["keras"])))
      name = str(saved[ref])
      if name not in weights:
        raise ValueError(f"{saved['keras']}: no dataset {name}")
      result.append(np.asarray(weights[name][()]))
  finally:
    if weights is not None:
      weights.close()
  return result
