"""One wire format for the entropy models' strings, read by every layer.

A hyperprior-sized latent (1x64x64x192: one coding unit of 786,432 values,
12 chunks) is compressed by an entropy model in TensorFlow. Its strings must
be byte-identical to those of ``tensorcoder.coder.encode_units`` (numpy, no
TensorFlow), decode to the ``EntropyModelDecode`` op's values through
``coder.decode_units``, and, stored with their tables in a version-2 tensor
file, decode to the same values in the native example apps built with plain
g++/gcc against ``libtensorcoder_decoder.a`` (C++ API and C ABI).
"""

import os
import pathlib
import subprocess
import sys
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import tensorcoder as tc
from tensorcoder import coder
from tensorcoder import ops
from tensorcoder import tensor_file

SHAPE = (1, 64, 64, 192)
COUNT = 64 * 64 * 192


@pytest.fixture(autouse=True)
def _seed():
  keras.utils.set_random_seed(20261201)


@pytest.fixture(scope="module")
def apps():
  """The example apps, built as a program outside Bazel would build them."""
  root = pathlib.Path.cwd()  # Bazel's runfiles, or a checkout.
  lib = root / "cc" / "libtensorcoder_decoder.a"
  if not lib.exists():  # Run from a checkout after `bazel build //cc/...`.
    lib = root / "bazel-bin" / "cc" / "libtensorcoder_decoder.a"
  work = pathlib.Path(tempfile.mkdtemp())
  cpp, c = work / "decode_tensor", work / "decode_tensor_c"
  subprocess.run(["g++", "-std=c++17", "-O2", f"-I{root}",
                  str(root / "examples/native_decoder/decode_tensor.cc"),
                  str(lib), "-pthread", "-o", str(cpp)], check=True)
  subprocess.run(["gcc", "-O2", "-c", f"-I{root}",
                  str(root / "examples/native_decoder/decode_tensor_c.c"),
                  "-o", str(work / "c.o")], check=True)
  subprocess.run(["g++", str(work / "c.o"), str(lib), "-pthread", "-o",
                  str(c)], check=True)
  return cpp, c, work


@pytest.fixture(scope="module")
def compressed():
  """A latent compressed by a 192-channel batched entropy model."""
  keras.utils.set_random_seed(7)
  prior = tc.NoisyDeepFactorized(batch_shape=[192])
  model = tc.ContinuousBatchedEntropyModel(prior, coding_rank=3,
                                           compression=True)
  y = tf.random.stateless_normal(SHAPE, seed=[3, 4]) * 4.0
  strings = model.compress(y)
  cdf, cdf_offset = model.cdf.numpy(), model.cdf_offset.numpy()
  op_values = ops.entropy_model_decode(
      strings, tf.zeros([0], tf.int32), COUNT, cdf, cdf_offset, T=tf.float32,
      indexed=False, check=True).numpy()
  return strings.numpy(), cdf, cdf_offset, op_values


def test_the_latent_is_one_unit_of_twelve_chunks(compressed):
  strings, cdf, _, op_values = compressed
  assert strings.shape == (1,) and cdf.shape[0] == 192
  assert op_values.shape == (1, COUNT)
  data = strings[0]
  sizes = np.frombuffer(data[:44], "<u4")  # 11 sizes: 12 chunks.
  assert 44 + sizes.sum() < len(data)  # The last chunk follows them.
  # Not a degenerate latent: many distinct symbols, escapes included.
  assert len(np.unique(op_values)) > 10


def test_numpy_writes_and_reads_the_ops_bytes(compressed):
  strings, cdf, cdf_offset, op_values = compressed
  # The decoded integers re-encode to the model's bytes.
  again = coder.encode_units(op_values, None, cdf, cdf_offset, indexed=False)
  assert again.shape == (1,) and again[0] == strings[0]
  # Floats that round to them, through the op and through numpy: the same
  # bytes (also float64, and any thread count).
  rng = np.random.default_rng(5)
  jitter = rng.uniform(-0.45, 0.45, op_values.shape)
  for dtype, tf_dtype in ((np.float32, tf.float32), (np.float64, tf.float64)):
    x = (op_values + jitter).astype(dtype)
    from_op = ops.entropy_model_encode(
        tf.constant(x, tf_dtype), tf.zeros([0], tf.int32), cdf, cdf_offset,
        indexed=False).numpy()
    for threads in (1, 0):
      from_numpy = coder.encode_units(x, None, cdf, cdf_offset, indexed=False,
                                      num_threads=threads)
      assert from_numpy[0] == from_op[0] == strings[0]
  decoded = coder.decode_units(strings, None, COUNT, cdf, cdf_offset,
                               indexed=False)
  assert decoded.dtype == np.float32
  np.testing.assert_array_equal(decoded, op_values)


def test_indexed_units_agree_with_the_op():
  cdf = np.array([[-8, 0, 100, 200, 250, 256, 256],
                  [-6, 0, 10, 20, 40, 50, 64]], np.int32)
  offsets = np.array([-3, 40], np.int32)
  rng = np.random.default_rng(9)
  for count in (11, 3 * 65536 + 5):  # One chunk, and 3 chunks.
    indexes = rng.integers(0, 2, (2, count)).astype(np.int32)
    x = (rng.normal(0, 3, (2, count)) + offsets[indexes]).astype(np.float32)
    from_op = ops.entropy_model_encode(x, indexes, cdf, offsets,
                                       indexed=True).numpy()
    from_numpy = coder.encode_units(x, indexes, cdf, offsets, indexed=True)
    assert list(from_numpy) == list(from_op)
    op_values = ops.entropy_model_decode(from_op, indexes, count, cdf, offsets,
                                         T=tf.float64, indexed=True,
                                         check=True).numpy()
    np.testing.assert_array_equal(op_values, np.round(x))
    decoded = coder.decode_units(from_op, indexes, count, cdf, offsets,
                                 indexed=True, dtype=np.float64)
    np.testing.assert_array_equal(decoded, op_values)
    # Both refuse an extended string the same way.
    bad = np.array([from_op[0] + b"\x00\x07", from_op[1]], dtype=object)
    with pytest.raises(ValueError, match="string 0"):
      coder.decode_units(bad, indexes, count, cdf, offsets, indexed=True)
    with pytest.raises(tf.errors.DataLossError, match="string 0"):
      ops.entropy_model_decode(bad, indexes, count, cdf, offsets, T=tf.float32,
                               indexed=True, check=True)


def test_native_apps_decode_the_models_strings(compressed, apps):
  strings, cdf, cdf_offset, op_values = compressed
  cpp, c, work = apps
  data = tensor_file.pack_units(SHAPE, cdf, cdf_offset, strings)
  path = work / "latent.tct"
  path.write_bytes(data)
  expected = op_values.reshape(SHAPE).astype(np.int32)
  np.testing.assert_array_equal(tensor_file.decode(data), expected)
  out = work / "latent.npy"
  subprocess.run([str(cpp), str(path), str(out)], check=True,
                 stdout=subprocess.DEVNULL)
  native = np.load(out)
  assert native.shape == SHAPE and native.dtype == np.int32
  np.testing.assert_array_equal(native, expected)
  summary = subprocess.run([str(c), str(path)], check=True,
                           capture_output=True, text=True).stdout
  assert summary.strip() == (f"rank 4, {COUNT} values, sum "
                             f"{int(expected.astype(np.int64).sum())}")
  # A flipped byte in a chunk is refused by the checksum, cleanly.
  bad = bytearray(data)
  bad[len(bad) // 2] ^= 1
  path.write_bytes(bytes(bad))
  failed = subprocess.run([str(cpp), str(path), str(out)],
                          capture_output=True, text=True)
  assert failed.returncode == 1 and "checksum" in failed.stderr


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
