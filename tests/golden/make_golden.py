"""Writes the golden test vectors of tests/golden/ with TensorFlow Compression.

The expected bytes come from TFC's own ops, so every layer of tensorcoder that
checks these files (C++ core, pybind11 module, TF ops, native decoder) proves
byte compatibility with TFC. Run in an environment with TFC installed:

    python -m venv /tmp/tfc-venv
    /tmp/tfc-venv/bin/pip install "tensorflow==2.14.*" tensorflow-compression==2.14.1
    /tmp/tfc-venv/bin/python tests/golden/make_golden.py tests/golden

Each case is a pair: NAME.txt (inputs, one `key values...` line each) and
NAME.bin (the expected encoded bytes). Keys: `coder` (range_index,
range_channel, run_length_gamma, run_length), `lookup_shape`, `lookup`,
`indexes`, `values`, `shape`, `options` (run_length_code magnitude_code
use_run_length_for_non_zeros). Only inputs TFC handles correctly are used.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
import tensorflow_compression as tfc  # pylint: disable=g-import-not-at-top


def write_case(directory, name, coder, encoded, **arrays):
  lines = [f"coder {coder}"]
  for key, value in arrays.items():
    value = np.asarray(value)
    lines.append(" ".join([key] + [str(int(v)) for v in value.ravel()]))
  with open(os.path.join(directory, name + ".txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
  with open(os.path.join(directory, name + ".bin"), "wb") as f:
    f.write(encoded)


def lookup_matrix(rng, rows, precision, overflow, max_symbols):
  cdfs = []
  for _ in range(rows):
    n = int(rng.integers(1 if overflow else 2, max_symbols + 1))
    if n == 1:  # TFC's pmf_to_quantized_cdf needs two entries.
      cdfs.append(np.array([0, 1 << precision], np.int32))
      continue
    pmf = rng.dirichlet(np.full(n, 0.5)).astype(np.float32)
    cdfs.append(tfc.pmf_to_quantized_cdf(pmf, precision=precision).numpy())
  width = 1 + max(c.size for c in cdfs)
  lookup = np.full((rows, width), 1 << precision, np.int32)
  for r, c in enumerate(cdfs):
    lookup[r, 0] = -precision if overflow else precision
    lookup[r, 1:c.size + 1] = c
  return lookup


def main(directory):
  rng = np.random.default_rng(20261122)
  cases = 0
  for precision in (1, 2, 5, 8, 12, 15, 16):
    for overflow in (False, True):
      rows = int(rng.integers(1, 6))
      lookup = lookup_matrix(rng, rows, precision, overflow,
                             min(1 << precision, 200))
      num_symbols = [int(np.argmax(r[1:] == (1 << precision))) for r in lookup]
      count = int(rng.integers(0, 3000))
      indexes = rng.integers(0, rows, count).astype(np.int32)
      hi = np.array(num_symbols)[indexes]
      values = (rng.random(count) * (hi - (1 if overflow else 0))).astype(
          np.int32)
      if overflow:
        # Escapes, well inside the range TFC's decoder handles.
        escaped = rng.random(count) < 0.1
        values[escaped] = rng.integers(-5000, 5000, escaped.sum())
      handle = tfc.create_range_encoder([], lookup)
      handle = tfc.entropy_encode_index(handle, indexes, values)
      encoded = tfc.entropy_encode_finalize(handle).numpy()
      name = f"range_index_p{precision}_{'overflow' if overflow else 'plain'}"
      write_case(directory, name, "range_index", encoded,
                 lookup_shape=lookup.shape, lookup=lookup, indexes=indexes,
                 values=values)
      cases += 1

      # Channel mode: value j uses row j mod rows.
      count = rows * int(rng.integers(0, 400))
      rows_of = np.arange(count) % rows
      hi = np.array(num_symbols)[rows_of]
      values = (rng.random(count) * (hi - (1 if overflow else 0))).astype(
          np.int32)
      handle = tfc.create_range_encoder([], lookup)
      handle = tfc.entropy_encode_channel(handle, values.reshape(-1, rows))
      encoded = tfc.entropy_encode_finalize(handle).numpy()
      write_case(directory, name.replace("index", "channel"), "range_channel",
                 encoded, lookup_shape=lookup.shape, lookup=lookup,
                 values=values)
      cases += 1

  for density in (0.05, 0.5, 1.0):
    data = rng.integers(-1000, 1000, 2000).astype(np.int32)
    data[rng.random(2000) > density] = 0
    encoded = tfc.run_length_gamma_encode(data).numpy()
    write_case(directory, f"run_length_gamma_d{int(density * 100)}",
               "run_length_gamma", encoded, values=data)
    cases += 1
    for run_code, magnitude_code, use_runs in ((-1, -1, False), (1, 0, True),
                                               (3, 5, False), (-1, 2, True)):
      # TFC 2.14's bit writer corrupts Rice codes whose unary part is long
      # (its own decoder then fails or returns other values), so magnitudes
      # are kept small for small Rice parameters, and every case is checked
      # to decode with TFC itself.
      case_data = data
      if magnitude_code >= 0:
        limit = 24 << magnitude_code
        case_data = np.clip(data, -limit, limit)
      options = dict(run_length_code=run_code, magnitude_code=magnitude_code,
                     use_run_length_for_non_zeros=use_runs)
      encoded = tfc.run_length_encode(case_data, **options).numpy()
      decoded = tfc.run_length_decode(encoded, case_data.shape, **options)
      if not np.array_equal(decoded, case_data):
        print(f"skipped: TFC cannot decode its own run-length code "
              f"({density}, {run_code}, {magnitude_code}, {use_runs})")
        continue
      write_case(directory,
                 f"run_length_d{int(density * 100)}_r{run_code}_m"
                 f"{magnitude_code}_{'runs' if use_runs else 'single'}",
                 "run_length", encoded, values=case_data,
                 options=[run_code, magnitude_code, int(use_runs)])
      cases += 1
  print(f"wrote {cases} cases to {directory} with TF {tf.__version__}")


if __name__ == "__main__":
  main(sys.argv[1])
