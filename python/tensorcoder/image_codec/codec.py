"""Compressing and decompressing image files with a trained model.

The default model (``DEFAULT_MODEL_ID``) ships inside the package; any model
written by ``tensorcoder train`` (its ``model.keras``) can be used instead.
Compressed files name the model that made them: the default's id, or for
other models the file name and a fingerprint of the weights
(``model@3f2a...``), so that decoding with a different model, even one whose
file has the same name, is refused instead of producing a wrong image.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import time
from typing import Optional

import numpy as np

from tensorcoder.image_codec import container
from tensorcoder.image_codec import images

DEFAULT_MODEL_ID = "hyperprior-v1"
_DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(__file__), "default_model",
                                   f"{DEFAULT_MODEL_ID}.keras")


def model_path(model: Optional[str]) -> tuple[str, str]:
  """``(model_id, path)`` of a model id or ``.keras`` file (None: default)."""
  if model is None or model == DEFAULT_MODEL_ID:
    return DEFAULT_MODEL_ID, _DEFAULT_MODEL_PATH
  if not os.path.exists(model):
    raise FileNotFoundError(f"model {model!r} is neither the default model "
                            f"id {DEFAULT_MODEL_ID!r} nor an existing file")
  return os.path.splitext(os.path.basename(model))[0], model


@functools.lru_cache(maxsize=4)
def load_model(model: Optional[str] = None):
  """The codec model (cached); see :func:`model_path`."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorcoder.models  # pylint: disable=g-import-not-at-top,unused-import
  _, path = model_path(model)
  loaded = keras.models.load_model(path, compile=False)
  if getattr(loaded, "table_shapes", None) is None:
    raise ValueError(f"{path} has no range-coding tables (make_coders() was "
                     "not called after training)")
  return loaded


@functools.lru_cache(maxsize=4)
def model_id(model: Optional[str] = None) -> str:
  """The id stored in compressed files: ``DEFAULT_MODEL_ID`` for the default
  model, else ``<file name>@<first 16 hex digits of a SHA-256 over every
  weight and table>``."""
  name, path = model_path(model)
  if path == _DEFAULT_MODEL_PATH:
    return DEFAULT_MODEL_ID
  import keras  # pylint: disable=g-import-not-at-top
  digest = hashlib.sha256()
  for weight in load_model(model).weights:
    value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
    digest.update(f"{value.dtype}{value.shape};".encode())
    digest.update(value.tobytes())
  name = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:64] or "model"
  return f"{name}@{digest.hexdigest()[:16]}"


def compress_array(image: np.ndarray, model: Optional[str] = None) -> bytes:
  """Compresses a uint8 [H, W, 3] image into container bytes."""
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
    raise ValueError(f"expected a uint8 [H, W, 3] image, got {image.dtype} "
                     f"{image.shape}")
  if image.shape[0] < 1 or image.shape[1] < 1:
    raise ValueError("the image has no pixels")
  strings, side_shape = load_model(model).compress(image)
  return container.pack(container.CompressedImage(
      model_id(model), image.shape[0], image.shape[1], tuple(side_shape),
      tuple(strings)))


def decompress_bytes(data: bytes, model: Optional[str] = None) -> np.ndarray:
  """Decodes container bytes into a uint8 [H, W, 3] image. With ``model``
  None, the model named in the file is used (the default one, or a
  ``.keras`` file of that name must be given)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  parsed = container.unpack(data)
  if model is None:
    if parsed.model_id != DEFAULT_MODEL_ID:
      raise ValueError(f"the file was made with model {parsed.model_id!r}; "
                       "pass that model's .keras file")
  elif model_id(model) != parsed.model_id:
    raise ValueError(f"the file was made with model {parsed.model_id!r}, "
                     f"not with {model_id(model)!r}")
  try:
    return load_model(model).decompress(
        list(parsed.strings), (parsed.height, parsed.width),
        parsed.side_shape)
  except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as error:
    raise container.ContainerError(
        f"the compressed data does not decode: {error.message}") from error


def compress_file(source: str, target: str,
                  model: Optional[str] = None) -> dict:
  """Compresses an image file; writes ``target`` atomically."""
  image = images.load(source)
  start = time.perf_counter()
  data = compress_array(image, model)
  seconds = time.perf_counter() - start
  images.write_atomically(target, data)
  return dict(bytes=len(data), bpp=8 * len(data) / image.shape[0] /
              image.shape[1], seconds=seconds, shape=image.shape)


def decompress_file(source: str, target: str,
                    model: Optional[str] = None) -> dict:
  """Decodes a ``.tci`` file into a PNG; writes ``target`` atomically (on
  any error, nothing is written)."""
  try:
    with open(source, "rb") as f:
      data = f.read()
  except OSError as error:
    raise container.ContainerError(
        f"{source}: cannot read ({error.strerror})") from error
  start = time.perf_counter()
  image = decompress_bytes(data, model)
  seconds = time.perf_counter() - start
  images.save_png(target, image)
  return dict(seconds=seconds, shape=image.shape)
