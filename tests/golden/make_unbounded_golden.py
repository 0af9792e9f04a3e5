"""Writes tests/golden/unbounded/ with TensorFlow Compression 2.14.

The golden vectors of the deprecated TFC 1.x ops UnboundedIndexRangeEncode /
UnboundedIndexRangeDecode, which TFC 2.14 still registers: the expected
bytes come from TFC's own kernels, so tests/unbounded_golden_test.py proves
that tensorcoder's ops write the same strings and decode them back. Run in an
environment with TFC installed:

    python3 -m venv /tmp/tfc214
    /tmp/tfc214/bin/pip install "tensorflow==2.14.*" \
        tensorflow-compression==2.14.1 "tensorflow-probability==0.22.*"
    /tmp/tfc214/bin/python tests/golden/make_unbounded_golden.py \
        tests/golden/unbounded

Writes:
  cases.json      a list of cases: name, precision, overflow_width, the
                  `cdf` matrix, `cdf_size`, `offset`, `shape` and the
                  flattened `index` and `data`, and TFC's `encoded` bytes (hex);
  opdefs.pbtxt    TFC's OpDefs of both ops (text format, docs stripped);
  graph.pb        a GraphDef (a traced tf.function, precision 8, overflow
                  width 4) that encodes its inputs and decodes the result;
  saved_model/    a SavedModel of the same function (signature "serve").

Only values TFC's encoder terminates for are used: TFC computes the number of
overflow digits with 32-bit shifts by multiples of `overflow_width` that
wrap modulo 32 on x86 (undefined behaviour in C++), so it never returns for
an overflow code of more than 32 - gcd(overflow_width, 32) bits. Cases near
that limit, where the wrapped shifts make TFC write extra digits, are kept:
they are part of TFC's format.
"""

import importlib.metadata
import json
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
import tensorflow_compression as tfc  # pylint: disable=g-import-not-at-top
from tensorflow.python.framework import op_def_registry  # pylint: disable=g-import-not-at-top
from tensorflow_compression.python.ops import gen_ops  # pylint: disable=g-import-not-at-top

TFC_VERSION = importlib.metadata.version("tensorflow-compression")
OP_NAMES = ("UnboundedIndexRangeEncode", "UnboundedIndexRangeDecode")


def overflow_code(value, max_value):
  """TFC's non-negative overflow code of an offset value (or None)."""
  if value < 0:
    return (-2 * value - 1) & 0xFFFFFFFF
  if value >= max_value:
    return (2 * (value - max_value)) & 0xFFFFFFFF
  return None


def codable(value, max_value, overflow_width):
  """True if TFC's encoder terminates for this offset value."""
  code = overflow_code(value, max_value)
  if code is None:
    return True
  return code.bit_length() <= 32 - math.gcd(overflow_width, 32)


def make_table(rng, rows, precision, max_symbols):
  """A zero-padded cdf matrix as TFC 1.x's entropy models built them."""
  cdfs = []
  for _ in range(rows):
    # cdf_size in [3, ...]: at least one regular value and the escape.
    n = int(rng.integers(2, max_symbols + 1))
    pmf = rng.dirichlet(np.full(n, 0.7)).astype(np.float32)
    cdfs.append(tfc.pmf_to_quantized_cdf(pmf, precision=precision).numpy())
  width = max(c.size for c in cdfs) + int(rng.integers(0, 3))
  cdf = np.zeros((rows, width), np.int32)
  for r, c in enumerate(cdfs):
    cdf[r, :c.size] = c
  cdf_size = np.array([c.size for c in cdfs], np.int32)
  return cdf, cdf_size


def sample_values(rng, count, max_values, overflow_width, spread):
  """Offset values: mostly regular, some escapes of either sign."""
  values = (rng.random(count) * max_values).astype(np.int64)
  escaped = rng.random(count) < 0.25
  values[escaped] = rng.integers(-spread, spread + max_values.max(),
                                 escaped.sum())
  for i in range(count):
    while not codable(int(values[i]), int(max_values[i]), overflow_width):
      values[i] //= 2
  return values


class Writer:
  """Collects cases, checking each with TFC's encoder and decoder."""

  def __init__(self):
    self.cases = []

  def add(self, name, precision, overflow_width, cdf, cdf_size, offset,
          index, data):
    cdf = np.asarray(cdf, np.int32)
    index = np.asarray(index, np.int32)
    data = np.asarray(data, np.int64)
    assert data.shape == index.shape, name
    max_values = np.asarray(cdf_size, np.int64)[index.ravel()] - 2
    offsets = np.asarray(offset, np.int64)[index.ravel()]
    # TFC subtracts the offset in int32 arithmetic (wrapping).
    wrapped = (data.ravel() - offsets + (1 << 31)) % (1 << 32) - (1 << 31)
    for v, m in zip(wrapped, max_values):
      assert codable(int(v), int(m), overflow_width), (name, v, m)
    data = data.astype(np.int32)
    args = (index, cdf, np.asarray(cdf_size, np.int32),
            np.asarray(offset, np.int32))
    attrs = dict(precision=precision, overflow_width=overflow_width)
    encoded = gen_ops.unbounded_index_range_encode(data, *args, **attrs)
    decoded = gen_ops.unbounded_index_range_decode(encoded, *args, **attrs)
    np.testing.assert_array_equal(decoded.numpy(), data, err_msg=name)
    self.cases.append(dict(
        name=name, precision=precision, overflow_width=overflow_width,
        cdf=cdf.tolist(), cdf_size=[int(v) for v in cdf_size],
        offset=[int(v) for v in offset], shape=list(data.shape),
        index=index.ravel().tolist(), data=data.ravel().tolist(),
        encoded=encoded.numpy().hex()))


def write_cases(directory, rng):
  writer = Writer()
  half = np.array([[0, 1, 2]], np.int32)  # precision 1: Pr(0) = Pr(esc).

  # Random tables and values over precisions and overflow widths.
  for precision, overflow_width in ((1, 1), (1, 4), (2, 2), (4, 3), (5, 1),
                                    (8, 4), (8, 8), (10, 5), (12, 6),
                                    (12, 12), (15, 7), (16, 2), (16, 16)):
    rows = int(rng.integers(1, 5))
    cdf, cdf_size = make_table(rng, rows, precision,
                               min(1 << precision, 40))
    offset = rng.integers(-20, 5, rows).astype(np.int32)
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 60)))
    index = rng.integers(0, rows, shape).astype(np.int32)
    max_values = cdf_size[index.ravel()].astype(np.int64) - 2
    spread = 1 << min(20, 2 * overflow_width + 3)
    values = sample_values(rng, index.size, max_values, overflow_width,
                           spread)
    data = (values + offset[index.ravel()]).reshape(shape)
    writer.add(f"random_p{precision}_w{overflow_width}", precision,
               overflow_width, cdf, cdf_size, offset, index, data)

  # Every value around the regular range of a row, both signs of escape.
  cdf = np.array([[0, 10, 200, 250, 256, 0]], np.int32)
  for overflow_width in (1, 2, 3, 4, 8, 16):
    data = np.arange(-40, 44, dtype=np.int32) + 3
    writer.add(f"sweep_w{overflow_width}", 8, overflow_width, cdf, [5], [3],
               np.zeros_like(data), data)

  # Escapes whose digit counts reach the prefix's continuation symbols.
  for overflow_width in (1, 2, 3):
    values = []
    for digits in range(1, 32):
      for code in (1 << (digits * overflow_width - 1),
                   (1 << (digits * overflow_width)) - 1):
        if code.bit_length() > 32 - math.gcd(overflow_width, 32):
          continue
        values.append(code // 2 + 1 if code % 2 == 0 else -(code + 1) // 2)
    values = np.array(sorted(set(values)), np.int64)
    values = values[[codable(int(v), 1, overflow_width) for v in values]]
    writer.add(f"long_escapes_w{overflow_width}", 1, overflow_width, half,
               [3], [0], np.zeros(values.size, np.int32), values)

  # The largest codes TFC terminates for: 32 - gcd(overflow_width, 32) bits,
  # where its wrapped shifts mostly make it write extra digits (21 digits of
  # 3 bits for a 31-bit code, say).
  for overflow_width in (1, 3, 5, 6, 7, 9, 11, 12, 13, 15, 16):
    bits = 32 - math.gcd(overflow_width, 32)
    codes = [(1 << bits) - 1, (1 << bits) - 2, 1 << (bits - 1),
             (1 << (bits - 1)) + 1]
    values = [c // 2 + 1 if c % 2 == 0 else -(c + 1) // 2 for c in codes]
    writer.add(f"widest_w{overflow_width}", 8, overflow_width,
               [[0, 100, 256]], [3], [0], np.zeros(len(values), np.int32),
               values)

  # Large offsets: data near the int32 limits, offset values small.
  writer.add("int32_min_offset", 12, 5, [[0, 1000, 3000, 4096]], [4],
             [-(1 << 31) + 7], np.zeros(6, np.int32),
             [-(1 << 31), -(1 << 31) + 6, -(1 << 31) + 7, -(1 << 31) + 9,
              -(1 << 31) + 1000, -(1 << 31) + (1 << 29)])
  writer.add("int32_max_offset", 12, 5, [[0, 1000, 3000, 4096]], [4],
             [(1 << 31) - 3], np.zeros(5, np.int32),
             [(1 << 31) - 1, (1 << 31) - 2, (1 << 31) - 3, (1 << 31) - 100,
              (1 << 30)])

  # Multi-dimensional index tensors with rows of different cdf_size, padded
  # with zeros after cdf_size like TFC 1.x's tables.
  cdf = np.array([[0, 1000, 60000, 65536, 0, 0, 0],
                  [0, 5, 10, 20, 65000, 65530, 65536],
                  [0, 32768, 65536, 0, 0, 0, 0]], np.int32)
  index = rng.integers(0, 3, (2, 3, 4)).astype(np.int32)
  data = rng.integers(-8, 12, index.shape).astype(np.int32)
  writer.add("multi_row_rank3", 16, 4, cdf, [4, 7, 3], [-2, 0, 5], index,
             data)
  writer.add("scalar", 16, 4, cdf, [4, 7, 3], [-2, 0, 5], np.int32(1),
             np.int32(-77))

  # Empty inputs.
  writer.add("empty", 8, 4, [[0, 128, 256]], [3], [0],
             np.zeros([0], np.int32), np.zeros([0], np.int32))
  writer.add("empty_rank2", 8, 4, [[0, 128, 256]], [3], [0],
             np.zeros([3, 0], np.int32), np.zeros([3, 0], np.int32))
  writer.add("empty_no_rows", 8, 4, np.zeros([0, 3], np.int32), [], [],
             np.zeros([0], np.int32), np.zeros([0], np.int32))

  # Long runs: carries and delayed bytes of the range coder.
  cdf = np.array([[0, 65535, 65536]], np.int32)
  data = np.zeros(3000, np.int32)
  data[rng.random(3000) < 0.01] = 1
  writer.add("long_skewed_p16", 16, 2, cdf, [3], [0],
             np.zeros_like(data), data)
  cdf = np.array([[0, 1, 65536]], np.int32)
  writer.add("long_escapes_p16", 16, 16, cdf, [3], [0],
             np.zeros(500, np.int32),
             rng.integers(-30000, 30000, 500).astype(np.int32))

  with open(os.path.join(directory, "cases.json"), "w") as f:
    json.dump(dict(tf_version=tf.__version__,
                   tfc_version=TFC_VERSION, cases=writer.cases), f,
              indent=0, separators=(",", ":"))
    f.write("\n")
  return len(writer.cases)


def write_opdefs(directory):
  lines = []
  for name in OP_NAMES:
    op_def = op_def_registry.get(name)
    stripped = type(op_def)()
    stripped.CopyFrom(op_def)
    stripped.ClearField("summary")
    stripped.ClearField("description")
    for field in (stripped.input_arg, stripped.output_arg, stripped.attr):
      for arg in field:
        arg.ClearField("description")
    lines.append("op {\n" + str(stripped) + "}\n")
  with open(os.path.join(directory, "opdefs.pbtxt"), "w") as f:
    f.write("".join(lines))


def coder_function():
  spec = tf.TensorSpec([None, None], tf.int32)

  @tf.function(input_signature=[spec, spec, spec,
                                tf.TensorSpec([None], tf.int32),
                                tf.TensorSpec([None], tf.int32)])
  def code(data, index, cdf, cdf_size, offset):
    encoded = gen_ops.unbounded_index_range_encode(
        data, index, cdf, cdf_size, offset, precision=8, overflow_width=4)
    decoded = gen_ops.unbounded_index_range_decode(
        encoded, index, cdf, cdf_size, offset, precision=8, overflow_width=4)
    return {"encoded": encoded, "decoded": decoded}

  return code


def write_graphs(directory):
  code = coder_function()
  graph_def = code.get_concrete_function().graph.as_graph_def()
  with open(os.path.join(directory, "graph.pb"), "wb") as f:
    f.write(graph_def.SerializeToString())
  module = tf.Module()
  module.code = code
  tf.saved_model.save(module, os.path.join(directory, "saved_model"),
                      signatures={"serve": code})


def main(directory):
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(20261203)
  count = write_cases(directory, rng)
  write_opdefs(directory)
  write_graphs(directory)
  print(f"wrote {count} cases, OpDefs, a GraphDef and a SavedModel to "
        f"{directory} with TF {tf.__version__}, TFC {TFC_VERSION}")


if __name__ == "__main__":
  main(sys.argv[1])
