"""Writes the golden tensor files (tests/golden/tensor_file_*.tct) and the
.npy of their values, with tensorcoder's Python writer. The native decoder
test decodes the .tct files with plain-g++ apps and compares with the .npy.

    tools/dev.sh bazel run //tests:make_tensor_files -- $PWD/tests/golden
"""

import glob
import os
import sys

import numpy as np

from tensorcoder import synthetic
from tensorcoder import tensor_file


def main(directory: str) -> int:
  # The first 24 of the 64 Gaussian tables (scales up to ~1.5): small files.
  gaussian = synthetic.indexed_gaussian(4 * 1000 * 3, seed=7)
  keep = np.flatnonzero(gaussian.indexes < 24)[:4000]
  lookup = gaussian.lookup[:24]
  lookup = lookup[:, :np.max(np.argmax(lookup[:, 1:] == 2**16, axis=1)) + 2]
  values = gaussian.symbols[keep].reshape(4, 10, 100)
  indexes = gaussian.indexes[keep].reshape(4, 10, 100)
  tensor_file.save(os.path.join(directory, "tensor_file_index.tct"), values,
                   lookup, indexes)
  np.save(os.path.join(directory, "tensor_file_index.npy"), values)

  logistic = synthetic.factorized_logistic(3 * 16 * 5, seed=8, channels=16)
  values = logistic.symbols.reshape(3, 5, 16).copy()
  values[0, 0, :4] = [-7, 2**31 - 1, -2**31, 100000]  # through the escape
  tensor_file.save(os.path.join(directory, "tensor_file_channel.tct"), values,
                   logistic.lookup)
  np.save(os.path.join(directory, "tensor_file_channel.npy"), values)
  # TFC's own strings (the golden range-coder vectors) in tensor files, so
  # the native decoder checks them too.
  for path in sorted(glob.glob(os.path.join(directory, "range_*.txt"))):
    fields = {}
    with open(path) as f:
      for line in f:
        key, *values = line.split()
        fields[key] = values
    lookup = np.array(fields["lookup"], np.int32).reshape(
        [int(d) for d in fields["lookup_shape"]])
    values = np.array(fields["values"], np.int32)
    indexes = (np.array(fields["indexes"], np.int32)
               if "indexes" in fields else None)
    if indexes is None:  # Channel mode: one string of [count / rows, rows].
      values = values.reshape(1, -1, lookup.shape[0])
    with open(path[:-4] + ".bin", "rb") as f:
      string = f.read()
    stem = path[:-4].replace("range_", "tensor_file_tfc_range_")
    with open(stem + ".tct", "wb") as f:
      f.write(tensor_file.pack(values.shape, lookup, [string], indexes))
    np.save(stem + ".npy", values)
    assert np.array_equal(tensor_file.load(stem + ".tct"), values)

  for name in ("index", "channel"):
    stem = os.path.join(directory, f"tensor_file_{name}")
    assert np.array_equal(tensor_file.load(stem + ".tct"), np.load(stem + ".npy"))
  print(f"wrote tensor files to {directory}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1]))
