"""Tests of the entropy-coding TF ops: TFC golden bytes, round trips,
broadcasting of the legacy API, errors, tf.function and SavedModel."""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


INT32_MIN = np.iinfo(np.int32).min
INT32_MAX = np.iinfo(np.int32).max
OVERFLOW_LOOKUP = [-8, 0, 100, 200, 250, 256]
OVERFLOW_VALUES = [0, 1, 2, -1, 3, 4, 100, -7]


def encode_index(lookup, index, value, handle_shape=()):
  handle = ops.create_range_encoder(list(handle_shape), lookup)
  handle = ops.entropy_encode_index(handle, index, value)
  return ops.entropy_encode_finalize(handle)


def decode_index(encoded, lookup, index, shape):
  handle = ops.create_range_decoder(encoded, lookup)
  handle, decoded = ops.entropy_decode_index(handle, index, shape)
  return decoded, ops.entropy_decode_finalize(handle)


@pytest.mark.parametrize("values,hex_bytes", [
    ([], ""),
    ([0], ""),
    ([1], "40"),
    ([2], "c0"),
    ([0] * 10, "0000"),
    ([1, 0, 2, 1, 1, 0, 2, 2, 1, 0], "5b7a"),
])
def test_golden_bytes_handle_api(values, hex_bytes):
  value = tf.constant(values, tf.int32)
  index = tf.zeros_like(value)
  encoded = encode_index([2, 0, 1, 3, 4], index, value)
  assert encoded.numpy().hex() == hex_bytes
  decoded, ok = decode_index(encoded, [2, 0, 1, 3, 4], index, [len(values)])
  assert decoded.numpy().tolist() == values
  assert ok.numpy()


def test_golden_bytes_with_overflow():
  value = tf.constant(OVERFLOW_VALUES, tf.int32)
  encoded = encode_index(OVERFLOW_LOOKUP, tf.zeros_like(value), value)
  assert encoded.numpy().hex() == "4d358e8e497de4cf"


def test_golden_bytes_legacy_api():
  data = tf.constant([1, 0, 2, 1, 1, 0, 2, 2, 1, 0], tf.int16)
  encoded = ops.range_encode(data, [[0, 1, 3, 4]], precision=2)
  assert encoded.numpy().hex() == "5b7a"
  decoded = ops.range_decode(encoded, [10], [[0, 1, 3, 4]], precision=2)
  assert decoded.dtype == tf.int16
  assert decoded.numpy().tolist() == data.numpy().tolist()


def test_golden_helpers():
  assert ops.pmf_to_quantized_cdf([0.7, 0.2, 0.1, 0.0],
                                  precision=4).numpy().tolist() == [
                                      0, 10, 13, 15, 16]
  assert ops.pmf_to_quantized_cdf([1 / 3] * 3,
                                  precision=2).numpy().tolist() == [0, 2, 3, 4]
  assert ops.run_length_gamma_encode([-6, 3, 0, 0]).numpy().hex() == "d16d"
  code = ops.run_length_encode([0, 0, 5, -2, 0, 1], run_length_code=1,
                               magnitude_code=0,
                               use_run_length_for_non_zeros=True)
  assert code.numpy().hex() == "3a640d"
  decoded = ops.run_length_decode(code, [6], run_length_code=1,
                                  magnitude_code=0,
                                  use_run_length_for_non_zeros=True)
  assert decoded.numpy().tolist() == [0, 0, 5, -2, 0, 1]
  assert ops.run_length_gamma_decode(
      bytes.fromhex("d16d"), [4]).numpy().tolist() == [-6, 3, 0, 0]


def random_lookup(rng, rows, precision=12, overflow=True):
  cdfs = []
  for _ in range(rows):
    n = rng.integers(2, 40)
    cdfs.append(ops.pmf_to_quantized_cdf(
        rng.dirichlet(np.ones(n)).astype(np.float32),
        precision=precision).numpy())
  width = 1 + max(c.size for c in cdfs)
  lookup = np.full((rows, width), 1 << precision, np.int32)
  for r, c in enumerate(cdfs):
    lookup[r, 0] = -precision if overflow else precision
    lookup[r, 1:c.size + 1] = c
  return lookup, [c.size - 1 for c in cdfs]


def test_many_handles_index_and_channel_round_trip():
  rng = np.random.default_rng(1)
  lookup, sizes = random_lookup(rng, 5)
  index = rng.integers(0, 5, (3, 4, 50)).astype(np.int32)
  value = rng.integers(-3, 30, index.shape).astype(np.int32)
  value[0, 0, :3] = [INT32_MIN, INT32_MAX, 1 << 30]
  encoded = encode_index(lookup, index, value, handle_shape=(3,))
  assert encoded.shape == (3,)
  decoded, ok = decode_index(encoded, lookup, index, [4, 50])
  np.testing.assert_array_equal(decoded, value)
  assert ok.numpy().all()
  # Each handle element is an independent string.
  alone = encode_index(lookup, index[1], value[1])
  assert alone.numpy() == encoded.numpy()[1]

  # Channel mode: the innermost axis picks the row.
  handle = ops.create_range_encoder([2], lookup)
  channel_value = rng.integers(0, 2, (2, 7, 5)).astype(np.int32)
  handle = ops.entropy_encode_channel(handle, channel_value)
  encoded = ops.entropy_encode_finalize(handle)
  handle = ops.create_range_decoder(encoded, lookup)
  handle, decoded = ops.entropy_decode_channel(handle, [7, 5])
  np.testing.assert_array_equal(decoded, channel_value)
  assert ops.entropy_decode_finalize(handle).numpy().all()
  explicit = encode_index(lookup, np.broadcast_to(np.arange(5, dtype=np.int32),
                                                  (2, 7, 5)),
                          channel_value, handle_shape=(2,))
  assert explicit.numpy().tolist() == encoded.numpy().tolist()


@pytest.mark.parametrize("cdf_shape", [(10, 10), (1, 10), (10, 1), (1, 1)])
def test_legacy_broadcasting(cdf_shape):
  rng = np.random.default_rng(2)
  full = np.stack([
      ops.pmf_to_quantized_cdf(rng.dirichlet(np.ones(64)).astype(np.float32),
                               precision=16).numpy()
      for _ in range(100)
  ]).reshape(10, 10, 65)
  cdf = full[:cdf_shape[0], :cdf_shape[1]]
  data = rng.integers(0, 64, (10, 10)).astype(np.int16)
  encoded = ops.range_encode(data, cdf, precision=16)
  decoded = ops.range_decode(encoded, [10, 10], cdf, precision=16)
  np.testing.assert_array_equal(decoded, data)
  tiled = np.broadcast_to(cdf, (10, 10, 65))
  assert ops.range_encode(data, tiled, precision=16).numpy() == encoded.numpy()


def test_errors_are_invalid_argument():
  value = tf.constant([0, 5], tf.int32)
  with pytest.raises(tf.errors.InvalidArgumentError, match="strictly"):
    ops.create_range_encoder([], [2, 0, 3, 3, 4])
  with pytest.raises(tf.errors.InvalidArgumentError, match="precision 17"):
    ops.create_range_encoder([], [17, 0, 1 << 17])
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="value 5 at position 1"):
    encode_index([2, 0, 1, 3, 4], tf.zeros_like(value), value)
  with pytest.raises(tf.errors.InvalidArgumentError, match="index 1"):
    encode_index([2, 0, 1, 3, 4], tf.constant([0, 1]), value)
  with pytest.raises(tf.errors.InvalidArgumentError, match="must start with"):
    encode_index([2, 0, 1, 3, 4], tf.zeros([4], tf.int32),
                 tf.zeros([4], tf.int32), handle_shape=(3,))
  with pytest.raises(tf.errors.InvalidArgumentError, match="broadcast"):
    ops.range_encode(tf.zeros([3, 2], tf.int16), tf.zeros([2, 2, 3], tf.int32),
                     precision=1)
  with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
    ops.range_encode(tf.constant([3], tf.int16), [[0, 1, 2]], precision=1)
  with pytest.raises(tf.errors.InvalidArgumentError, match="must end with"):
    ops.range_encode(tf.constant([0], tf.int16), [[0, 1, 3]], precision=1)
  # TFC aborts the process here; tensorcoder reports the problem.
  with pytest.raises(tf.errors.InvalidArgumentError, match="more than 2"):
    ops.pmf_to_quantized_cdf([0.2] * 5, precision=2)
  with pytest.raises(tf.errors.InvalidArgumentError, match="NaN"):
    ops.pmf_to_quantized_cdf([0.5, float("nan")], precision=8)
  with pytest.raises(tf.errors.InvalidArgumentError, match="at most 31"):
    ops.run_length_encode([1], run_length_code=40, magnitude_code=0,
                          use_run_length_for_non_zeros=False)


def test_corrupt_strings_fail_cleanly():
  value = tf.constant(OVERFLOW_VALUES, tf.int32)
  index = tf.zeros_like(value)
  good = encode_index(OVERFLOW_LOOKUP, index, value).numpy()
  # Extra bytes are never accepted, even zeros (TFC accepts them).
  for bad in [good + b"\x00", good + b"junk", good[:-1]]:
    try:
      decoded, ok = decode_index(bad, OVERFLOW_LOOKUP, index, [8])
      assert not ok.numpy() or decoded.numpy().tolist() != OVERFLOW_VALUES
      if bad.startswith(good):
        assert not ok.numpy()
    except tf.errors.DataLossError:
      pass
  # Garbage: decoding must fail or report failure, never crash or hang.
  rng = np.random.default_rng(3)
  for _ in range(50):
    garbage = rng.integers(0, 256, rng.integers(0, 40)).astype(np.uint8)
    try:
      decode_index(garbage.tobytes(), [-16, 0, 1, 65536],
                   tf.zeros([100], tf.int32), [100])
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError):
      pass
  with pytest.raises(tf.errors.DataLossError):
    ops.run_length_gamma_decode(b"\x00" * 16, [3])
  with pytest.raises(tf.errors.DataLossError):
    ops.range_decode(b"5b7a00", [10], [[0, 1, 3, 4]], precision=2)


def test_large_escaped_magnitudes_do_not_hang():
  # TFC's decoder hangs on escaped magnitudes >= 2^30.
  value = tf.constant([1 << 30, -(1 << 30), INT32_MAX, INT32_MIN], tf.int32)
  index = tf.zeros_like(value)
  encoded = encode_index([-1, 0, 2], index, value)
  decoded, ok = decode_index(encoded, [-1, 0, 2], index, [4])
  assert decoded.numpy().tolist() == value.numpy().tolist() and ok.numpy()


def test_tf_function_static_shapes():
  lookup = tf.constant(OVERFLOW_LOOKUP)

  @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.int32)])
  def round_trip(values):
    index = tf.zeros_like(values)
    handle = ops.create_range_encoder(tf.shape(values)[:1], lookup)
    handle = ops.entropy_encode_index(handle, index, values)
    strings = ops.entropy_encode_finalize(handle)
    handle = ops.create_range_decoder(strings, lookup)
    handle, decoded = ops.entropy_decode_index(handle, index, [8])
    return strings, decoded, ops.entropy_decode_finalize(handle)

  values = tf.constant([OVERFLOW_VALUES, OVERFLOW_VALUES[::-1]])
  strings, decoded, ok = round_trip(values)
  assert strings.numpy()[0].hex() == "4d358e8e497de4cf"
  np.testing.assert_array_equal(decoded, values)
  assert ok.numpy().all()
  concrete = round_trip.get_concrete_function()
  assert concrete.structured_outputs[1].shape.as_list() == [None, 8]


_SAVED_MODEL_CHECK = """
import sys, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
import tensorcoder.ops
model = tf.saved_model.load(sys.argv[1])
strings = model.compress(tf.constant([[0, 1, 2, -1, 3, 4, 100, -7]]))
print(strings.numpy()[0].hex())
print(model.decompress(strings).numpy().tolist())
"""


def test_saved_model_round_trip_in_fresh_process():
  lookup = tf.constant(OVERFLOW_LOOKUP)

  class Coder(tf.Module):

    @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.int32)])
    def compress(self, values):
      handle = ops.create_range_encoder(tf.shape(values)[:1], lookup)
      handle = ops.entropy_encode_index(handle, tf.zeros_like(values), values)
      return ops.entropy_encode_finalize(handle)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def decompress(self, strings):
      handle = ops.create_range_decoder(strings, lookup)
      index = tf.zeros(tf.concat([tf.shape(strings), [8]], 0), tf.int32)
      handle, decoded = ops.entropy_decode_index(handle, index, [8])
      with tf.control_dependencies([ops.entropy_decode_finalize(handle)]):
        return tf.identity(decoded)

  with tempfile.TemporaryDirectory() as path:
    tf.saved_model.save(Coder(), path)
    result = subprocess.run(
        [sys.executable, "-c", _SAVED_MODEL_CHECK, path], check=True,
        capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
  lines = result.stdout.strip().splitlines()
  assert lines[-2] == "4d358e8e497de4cf"
  assert lines[-1] == str([OVERFLOW_VALUES])


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))


REFUSED = "in another arrangement|is not a range (en|de)coder handle"


def _rearrangements(handle):
  """Ways a user can rearrange a handle tensor of shape [2] (D2). TF has
  no CPU kernels of concat or reverse for variant tensors."""
  return {
      "gather": lambda h: tf.gather(h, [0, 0]),
      "gather_more": lambda h: tf.gather(h, [0, 1, 0]),
      "tile": lambda h: tf.tile(h, [2]),
      "swap": lambda h: tf.gather(h, [1, 0]),
      "gather_reshaped": lambda h: tf.reshape(tf.gather(h, [0, 0, 0, 0]),
                                              [2, 2])[0],
      "slice": lambda h: h[1:],
  }


@pytest.mark.parametrize("name", sorted(_rearrangements(None)))
def test_rearranged_handles_are_refused(name):
  # Issue D2: kernels indexed encoders[k]/decoders[k] for every element of
  # the handle they were given, so a gathered or tiled handle read past the
  # end of the coder list (SIGSEGV). Now every such handle is an error.
  rearrange = _rearrangements(None)[name]
  # Element 0 holds the coders; a rearrangement that moves an empty element
  # there is "not a handle", any other is "in another arrangement".
  lookup = OVERFLOW_LOOKUP
  value = tf.constant([[0, 1, 2], [3, 4, 100]], tf.int32)
  index = tf.zeros_like(value)

  encoder = ops.create_range_encoder([2], lookup)
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    ops.entropy_encode_finalize(rearrange(encoder))
  bad_value = tf.zeros([int(rearrange(encoder).shape[0]), 3], tf.int32)
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    ops.entropy_encode_index(rearrange(encoder), tf.zeros_like(bad_value),
                             bad_value)
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    ops.entropy_encode_channel(rearrange(encoder), bad_value)

  strings = ops.entropy_encode_finalize(
      ops.entropy_encode_index(encoder, index, value))
  decoder = ops.create_range_decoder(strings, lookup)
  shape = int(rearrange(decoder).shape[0])
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    ops.entropy_decode_index(rearrange(decoder), tf.zeros([shape, 3], tf.int32),
                             [3])
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    ops.entropy_decode_channel(rearrange(decoder), [3])
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    ops.entropy_decode_finalize(rearrange(decoder))

  # Inside a tf.function too.
  @tf.function
  def traced():
    h = ops.create_range_encoder([2], lookup)
    return ops.entropy_encode_finalize(rearrange(h))
  with pytest.raises(tf.errors.InvalidArgumentError, match=REFUSED):
    traced()


def test_reshaped_handles_still_work():
  lookup = OVERFLOW_LOOKUP
  value = tf.constant([[0, 1, 2], [3, 4, 100]], tf.int32)
  encoder = tf.reshape(ops.create_range_encoder([2], lookup), [2, 1])
  encoder = ops.entropy_encode_index(encoder, tf.zeros([2, 1, 3], tf.int32),
                                     tf.reshape(value, [2, 1, 3]))
  strings = tf.reshape(ops.entropy_encode_finalize(encoder), [2])
  decoded, ok = decode_index(strings, lookup, tf.zeros_like(value), [3])
  np.testing.assert_array_equal(decoded, value)
  assert ok.numpy().all()


@pytest.mark.parametrize("value,offset", [
    (2.0**30 - 1, -2**31), (-(2.0**30 - 1), 2**31 - 1), (1.0, -2**31 + 1)])
def test_entropy_model_encode_refuses_symbols_outside_int32(value, offset):
  # Issue D8: round(value) - cdf_offset overflowed int32 silently and the
  # round trip gave another number (-3221225473 for the first case).
  lookup = [-8, 0, 100, 200, 250, 256]
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="outside the int32 range"):
    ops.entropy_model_encode(tf.constant([[value]], tf.float64),
                             tf.zeros([0], tf.int32), [lookup], [offset],
                             indexed=False)


def test_entropy_model_round_trips_extreme_offsets():
  lookup = [-8, 0, 100, 200, 250, 256]
  values = tf.constant([[2.0**30 - 1, -(2.0**30 - 1), 0.0, 7.0]], tf.float64)
  for offset in (-2**30, 2**30, 0):
    strings = ops.entropy_model_encode(values, tf.zeros([0], tf.int32),
                                       [lookup], [offset], indexed=False)
    decoded = ops.entropy_model_decode(strings, tf.zeros([0], tf.int32), 4,
                                       [lookup], [offset], T=tf.float64,
                                       indexed=False, check=True)
    np.testing.assert_array_equal(decoded, values)
