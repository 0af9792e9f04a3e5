"""Several rank-1 tensors and a model name in one string, as TFC packs them.

The string is a serialized ``tf.train.Example`` protocol buffer, exactly as
TensorFlow Compression writes it: feature ``"MD"`` holds the model name (one
ASCII bytes value) and features ``chr(1)``, ``chr(2)``, ... hold the packed
arrays in order, integers as an ``int64_list`` and strings as a
``bytes_list``. Files written by TFC's ``PackedTensors`` unpack here and the
other way around.
"""

from __future__ import annotations

from typing import Sequence

from google.protobuf import message
import numpy as np
import tensorflow as tf

__all__ = ["PackedTensors"]

_MODEL_KEY = "MD"


def _key(position: int) -> str:
  """Feature name of the array at ``position`` (0-based)."""
  return chr(position + 1)


class PackedTensors:
  """Packs rank-1 integer or string arrays (and a model name) into a string.

  Args:
    string: optional serialized form to start from (see ``string``).
  """

  def __init__(self, string: bytes | None = None):
    self._example = tf.train.Example()
    if string:
      self.string = string

  @property
  def model(self) -> str:
    """The model name (ASCII). Raises ValueError when none was set."""
    values = self._features[_MODEL_KEY].bytes_list.value \
        if _MODEL_KEY in self._features else []
    if not values:
      raise ValueError("this PackedTensors holds no model name")
    return values[0].decode("ascii")

  @model.setter
  def model(self, value: str) -> None:
    self._features[_MODEL_KEY].bytes_list.value[:] = [value.encode("ascii")]

  @model.deleter
  def model(self) -> None:
    del self._features[_MODEL_KEY]

  @property
  def string(self) -> bytes:
    """The serialized ``tf.train.Example``, its features in sorted order
    (protobuf's deterministic serialization: TFC's order of the map entries
    may differ between processes, so equal contents gave unequal bytes)."""
    return self._example.SerializeToString(deterministic=True)

  @string.setter
  def string(self, value: bytes) -> None:
    example = tf.train.Example()
    try:
      example.ParseFromString(bytes(value))
    except message.DecodeError as error:
      raise ValueError(f"not a PackedTensors string: {error}") from error
    self._example = example

  @property
  def _features(self):
    return self._example.features.feature

  def pack(self, tensors: Sequence, arrays: Sequence | None = None) -> None:
    """Stores rank-1 integer or string tensors, replacing what was packed
    before. TFC 2's form is ``pack(tensors)`` (eager tensors or arrays);
    TFC 1's ``pack(tensors, arrays)`` (dtypes from ``tensors``, values from
    ``arrays``) is accepted too.

    Raises:
      ValueError: if ``tensors`` and ``arrays`` differ in length.
      RuntimeError: for a tensor not of rank 1 or of a dtype other than
        integer or string (TFC's exception type).
    """
    if arrays is None:
      arrays = [np.asarray(t) for t in tensors]
    elif len(tensors) != len(arrays):
      raise ValueError("`tensors` and `arrays` must have the same length, "
                       f"got {len(tensors)} and {len(arrays)}")
    for position, (tensor, array) in enumerate(zip(tensors, arrays)):
      array = np.asarray(array)
      dtype = tf.as_dtype(tensor.dtype)
      if array.ndim != 1:
        raise RuntimeError(f"tensor {position} has rank {array.ndim}; only "
                           "rank-1 tensors can be packed")
      feature = self._features[_key(position)]
      feature.Clear()
      if dtype.is_integer:
        feature.int64_list.value[:] = array.astype(np.int64).tolist()
      elif dtype == tf.string:
        feature.bytes_list.value[:] = [bytes(v) for v in array]
      else:
        raise RuntimeError(f"tensor {position} has dtype {dtype.name}; only "
                           "integer and string tensors can be packed")
    position = len(arrays)
    while _key(position) in self._features:  # Drop older, longer packs.
      del self._features[_key(position)]
      position += 1

  def unpack(self, dtypes: Sequence) -> list:
    """The packed tensors, as ``tf.Tensor``s of the given ``dtypes`` (TFC
    2). Given tensors instead of dtypes (TFC 1's form), returns NumPy arrays
    of their dtypes."""
    legacy = any(hasattr(d, "dtype") and not isinstance(d, tf.DType)
                 for d in dtypes)
    dtypes = [tf.as_dtype(d.dtype if legacy else d) for d in dtypes]
    for dtype in dtypes:
      if not dtype.is_integer and dtype != tf.string:
        raise RuntimeError(f"cannot unpack into dtype {dtype.name}; only "
                           "integer and string tensors are packed")
    arrays = self.unpack_from_np_dtypes(
        [object if d == tf.string else d.as_numpy_dtype for d in dtypes])
    if legacy:
      return arrays
    return [tf.constant(a if d != tf.string else list(a), dtype=d)
            for a, d in zip(arrays, dtypes)]

  def unpack_from_np_dtypes(self, np_dtypes: Sequence) -> list[np.ndarray]:
    """The packed arrays, with the given NumPy dtypes (integer, ``object``
    or ``bytes_`` for strings)."""
    arrays = []
    for position, np_dtype in enumerate(np_dtypes):
      np_dtype = np.dtype(np_dtype)
      if _key(position) not in self._features:
        raise ValueError(f"this PackedTensors holds {position} arrays, "
                         f"{len(np_dtypes)} were asked for")
      feature = self._features[_key(position)]
      if np.issubdtype(np_dtype, np.integer):
        values = np.array(feature.int64_list.value, dtype=np.int64)
        info = np.iinfo(np_dtype)
        if values.size and (values.min() < info.min or values.max() > info.max):
          raise ValueError(f"array {position} has values outside {np_dtype}")
        arrays.append(values.astype(np_dtype))
      elif np_dtype == np.dtype(object) or np.issubdtype(np_dtype, np.bytes_):
        arrays.append(np.array(list(feature.bytes_list.value), dtype=np_dtype))
      else:
        raise RuntimeError(f"cannot unpack into NumPy dtype {np_dtype}")
    return arrays
