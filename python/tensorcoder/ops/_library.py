"""Loads tensorcoder's TensorFlow op library, checking the TF version."""

from __future__ import annotations

import os

import tensorflow as tf

from tensorcoder.ops import _build_info

_LIBRARY_PATH = os.path.join(os.path.dirname(__file__), "_tensorcoder_ops.so")


def _load_library():
  built_for = _build_info.TF_VERSION
  installed = tf.__version__
  if built_for.split(".")[:2] != installed.split(".")[:2]:
    raise ImportError(
        f"tensorcoder's TensorFlow ops were built for TensorFlow {built_for}, "
        f"but TensorFlow {installed} is installed. Install TensorFlow "
        f"{'.'.join(built_for.split('.')[:2])}.* or rebuild tensorcoder "
        "against the installed version.")
  try:
    return tf.load_op_library(_LIBRARY_PATH)
  except (tf.errors.NotFoundError, OSError) as error:
    raise ImportError(
        f"could not load tensorcoder's op library {_LIBRARY_PATH} (built for "
        f"TensorFlow {built_for}, installed {installed}): {error}") from error


ops = _load_library()
