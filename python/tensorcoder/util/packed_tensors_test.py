"""PackedTensors: TFC's serialized form, round trips and errors."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.util import packed_tensors  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def test_tfc2_pack_unpack_round_trip():
  # TFC 2's form: pack eager tensors, unpack by dtypes into tensors.
  tensors = [tf.constant([b"xyz", b"\x00\xff"]),
             tf.constant([1, 3, -7], tf.int32), tf.constant([], tf.int64)]
  packed = packed_tensors.PackedTensors()
  packed.pack(tensors)
  clone = packed_tensors.PackedTensors(packed.string)
  out = clone.unpack([t.dtype for t in tensors])
  for a, b in zip(out, tensors):
    assert isinstance(a, tf.Tensor) and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def test_tfc1_pack_unpack_round_trip():
  strings = np.array([b"xyz", b"\x00\xff"], dtype=object)
  shape = np.array([1, 3, -7], np.int32)
  tensors = [tf.zeros([2], tf.string), tf.zeros([3], tf.int32)]
  packed = packed_tensors.PackedTensors()
  packed.pack(tensors, [strings, shape])
  packed.model = "bls2017-1"
  clone = packed_tensors.PackedTensors(packed.string)
  out_strings, out_shape = clone.unpack(tensors)
  assert list(out_strings) == list(strings)
  assert out_shape.dtype == np.int32 and list(out_shape) == [1, 3, -7]
  assert clone.model == "bls2017-1"
  del clone.model
  with pytest.raises(ValueError, match="no model name"):
    clone.model  # pylint: disable=pointless-statement


def test_bytes_are_tfc_example():
  # The serialized form is TFC's: a tf.train.Example with features "MD",
  # chr(1), chr(2), ...
  packed = packed_tensors.PackedTensors()
  packed.model = "m"
  packed.pack([tf.zeros([1], tf.string), tf.zeros([2], tf.int64)],
              [np.array([b"ab"], object), np.array([5, 300])])
  example = tf.train.Example()
  example.features.feature["MD"].bytes_list.value[:] = [b"m"]
  example.features.feature["\x01"].bytes_list.value[:] = [b"ab"]
  example.features.feature["\x02"].int64_list.value[:] = [5, 300]
  assert tf.train.Example.FromString(packed.string) == example
  # A string made by protobuf directly (as TFC makes it) unpacks.
  other = packed_tensors.PackedTensors(example.SerializeToString())
  assert [list(a) for a in other.unpack_from_np_dtypes([object, np.int64])] \
      == [[b"ab"], [5, 300]]


def test_string_is_deterministic():
  # Features are a protobuf map, whose serialized order is unspecified;
  # the string sorts them, so equal contents give equal bytes in any
  # process and in any order of setting.
  first, second = packed_tensors.PackedTensors(), packed_tensors.PackedTensors()
  tensors = [tf.constant([b"a"]), tf.constant([1, 2])]
  first.model = "m"
  first.pack(tensors)
  second.pack(tensors)
  second.model = "m"
  assert first.string == second.string
  keys = [k for k in ("MD", "\x01", "\x02")]
  example = tf.train.Example.FromString(first.string)
  assert sorted(example.features.feature) == sorted(keys)


def test_repacking_drops_older_arrays():
  packed = packed_tensors.PackedTensors()
  ints = tf.zeros([1], tf.int32)
  packed.pack([ints, ints, ints], [np.array([1]), np.array([2]),
                                   np.array([3])])
  packed.pack([ints], [np.array([9])])
  assert "\x02" not in tf.train.Example.FromString(
      packed.string).features.feature
  with pytest.raises(ValueError, match="holds 1 arrays, 2 were asked"):
    packed.unpack([tf.int32, tf.int32])


def test_errors():
  packed = packed_tensors.PackedTensors()
  with pytest.raises(ValueError, match="same length"):
    packed.pack([tf.zeros([1], tf.int32)], [])
  with pytest.raises(RuntimeError, match="rank 2"):
    packed.pack([tf.zeros([1, 1], tf.int32)], [np.zeros((1, 1), np.int32)])
  with pytest.raises(RuntimeError, match="float32"):
    packed.pack([tf.zeros([1])], [np.zeros(1, np.float32)])
  with pytest.raises(RuntimeError, match="float32"):
    packed.unpack([tf.zeros([1])])
  with pytest.raises(RuntimeError, match="float32"):
    packed.unpack([tf.float32])
  with pytest.raises(RuntimeError, match="rank 0"):
    packed.pack([tf.constant(3)])
  with pytest.raises(ValueError, match="not a PackedTensors string"):
    packed_tensors.PackedTensors(b"\xff\xff\xff")
  packed.pack([tf.zeros([1], tf.int64)], [np.array([1000])])
  with pytest.raises(ValueError, match="outside int8"):
    packed.unpack([tf.int8])


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
