"""Compressing and decompressing image files with a trained model.

The default model (``DEFAULT_MODEL_ID``) ships inside the package; any model
written by ``tensorcoder train`` (its ``model.keras``) can be used instead.
Compressed files name the model that made them: the default's id, or for
other models the file name and a fingerprint of the weights
(``model@3f2a...``), so that decoding with a different model, even one whose
file has the same name, is refused instead of producing a wrong image.

Variable-rate models (``VariableRateHyperpriorCodec``) compress at a quality
level, 1 (lowest rate) to ``num_qualities``; the level is stored in the file
(container format version 2), so decoding needs no option.

``precision`` (every function that runs a model takes it) is the dtype
policy the analysis and synthesis transforms compute in: one of
``PRECISIONS``, or None for the one the model was saved with (its
``transform_dtype``: ``mixed_bfloat16`` for models trained so, such as the
default) where this CPU computes it natively, else float32
(``precision.coding_precision``: bfloat16 without AVX512-BF16 or AMX is
several times slower). It does not change what the bytes mean: a file
compressed in one precision decodes in another.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import time
import warnings
import zipfile
from typing import Optional

import numpy as np

from tensorcoder import _op_errors
from tensorcoder.image_codec import container
from tensorcoder.image_codec import images
from tensorcoder.image_codec import precision as _precision
# What ``precision`` may be (besides None: see the module docstring): the
# precisions models train in (a light import: the module loads TensorFlow
# lazily).
from tensorcoder.image_codec.train import PRECISIONS

DEFAULT_MODEL_ID = "ladder-v11"
# Models shipped in the package, by id: ``<id>.keras``. A new default gets a
# new id; the old files stay here so that files made with them still decode.
_SHIPPED_DIR = os.path.join(os.path.dirname(__file__), "default_model")


def shipped_models() -> list[str]:
  """Ids of the models shipped inside the package."""
  return sorted(name[:-len(".keras")] for name in os.listdir(_SHIPPED_DIR)
                if name.endswith(".keras"))


def _shipped_path(model: str) -> Optional[str]:
  if not re.fullmatch(r"[A-Za-z0-9._-]+", model):
    return None
  path = os.path.join(_SHIPPED_DIR, f"{model}.keras")
  return path if os.path.isfile(path) else None


def model_path(model: Optional[str]) -> tuple[str, str]:
  """``(name, path)`` of a shipped model id or a ``.keras`` file (None: the
  default model)."""
  if model is None:
    model = DEFAULT_MODEL_ID
  shipped = _shipped_path(model)
  if shipped is not None:
    return model, shipped
  if not os.path.exists(model):
    raise FileNotFoundError(
        f"model {model!r} is neither a shipped model id "
        f"({', '.join(shipped_models()) or 'none'}) nor an existing file")
  return os.path.splitext(os.path.basename(model))[0], model


def _file_key(model: Optional[str]) -> tuple[str, str, str, int, int]:
  """What the caches below know a model by: ``(name, path)`` as
  :func:`model_path` gives them, and the file's real path, size and
  modification time. So a file written anew at the same path, or a
  relative path given again from another folder, is loaded anew instead
  of answered with the model read before."""
  name, path = model_path(model)
  stat = os.stat(path)
  return (name, path, os.path.realpath(path), stat.st_size,
          stat.st_mtime_ns)


def load_model(model: Optional[str] = None,
               precision: Optional[str] = None):
  """The codec model (cached while its file stays as it was); see
  :func:`model_path`. With ``precision`` (one of ``PRECISIONS``) its
  transforms compute in that dtype policy, not in the one it was saved
  with (the same weights and tables); None chooses as the module docstring
  says."""
  if precision is not None and precision not in PRECISIONS:
    raise ValueError(f"precision {precision!r} is not one of "
                     f"{', '.join(PRECISIONS)}")
  key = _file_key(model)
  if precision is None:
    precision = _precision.coding_precision(_load_saved(key).transform_dtype)
  return _load_model(key, precision)


def saved_precision(model: Optional[str] = None) -> str:
  """The precision ``model`` was saved with (its own ``transform_dtype``),
  whichever it computes in here."""
  return _load_saved(_file_key(model)).transform_dtype


@functools.lru_cache(maxsize=4)
def _load_model(key: tuple, precision: str):
  loaded = _load_saved(key)
  if precision == loaded.transform_dtype:
    return loaded
  config = dict(loaded.get_config(), transform_dtype=precision)
  converted = type(loaded).from_config(config)
  converted.build()
  converted.set_weights(loaded.get_weights())
  return converted


@functools.lru_cache(maxsize=4)
def _load_saved(key: tuple):
  import keras  # pylint: disable=g-import-not-at-top
  import tensorcoder.models  # pylint: disable=g-import-not-at-top,unused-import
  path = key[1]
  try:
    with warnings.catch_warnings():
      # The codecs build themselves from their config; Keras' notice that it
      # cannot call build_from_config() is noise.
      warnings.filterwarnings("ignore", message=".*build_from_config",
                              category=UserWarning)
      loaded = keras.models.load_model(path, compile=False)
  except (ValueError, TypeError, KeyError, OSError,
          zipfile.BadZipFile) as error:
    raise ValueError(f"{path}: not a model tensorcoder can load "
                     f"({error})") from error
  if getattr(loaded, "table_shapes", None) is None:
    raise ValueError(f"{path} has no range-coding tables (make_coders() was "
                     "not called after training)")
  return loaded


def model_id(model: Optional[str] = None) -> str:
  """The id stored in compressed files: a shipped model's id (e.g.
  ``DEFAULT_MODEL_ID``), else ``<file name>@<first 16 hex digits of a
  SHA-256 over every weight and table>``."""
  return _model_id(_file_key(model))


@functools.lru_cache(maxsize=4)
def _model_id(key: tuple) -> str:
  name, path = key[:2]
  shipped = _shipped_path(name)
  if shipped is not None and os.path.samefile(shipped, path):
    return name
  import keras  # pylint: disable=g-import-not-at-top
  digest = hashlib.sha256()
  for weight in _load_saved(key).weights:
    value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
    digest.update(f"{value.dtype}{value.shape};".encode())
    digest.update(value.tobytes())
  name = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:64] or "model"
  return f"{name}@{digest.hexdigest()[:16]}"


def qualities(model: Optional[str] = None) -> Optional[int]:
  """The number of quality levels of a variable-rate model (None for a
  single-rate one)."""
  return getattr(load_model(model), "num_qualities", None)


def check_quality(quality: Optional[int], model: Optional[str] = None
                  ) -> Optional[int]:
  """The quality level to compress with: ``quality``, or the model's default
  for None (None for a single-rate model).

  Raises:
    ValueError: a quality that is not one of the model's levels, or any
      quality for a single-rate model.
  """
  loaded = load_model(model)
  levels = getattr(loaded, "num_qualities", None)
  if levels is None:
    if quality is not None:
      raise ValueError(f"model {model_id(model)!r} has a single quality; "
                       "--quality needs a variable-rate model")
    return None
  if quality is None:
    return int(loaded.default_quality)
  if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)):
    raise ValueError(f"the quality must be an integer, got {quality!r}")
  if not 1 <= quality <= levels:
    raise ValueError(f"quality {quality} is not a level of model "
                     f"{model_id(model)!r} (1 to {levels})")
  return int(quality)


def compress_array(image: np.ndarray, model: Optional[str] = None,
                   quality: Optional[int] = None,
                   precision: Optional[str] = None,
                   refine: int = 0) -> bytes:
  """Compresses a uint8 [H, W, 3] image into container bytes, at ``quality``
  for a variable-rate model (None: its default level; see
  :func:`check_quality`), the transform in ``precision`` (module
  docstring). ``refine`` > 0 searches that many steps for better latents
  (``tensorcoder.models.refinement``): fewer bits and a higher PSNR, the
  same decoder, at about 0.3 s per step for a 768x512 image on two cores."""
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
    raise ValueError(f"expected a uint8 [H, W, 3] image, got {image.dtype} "
                     f"{image.shape}")
  if image.shape[0] < 1 or image.shape[1] < 1:
    raise ValueError("the image has no pixels")
  if image.shape[0] * image.shape[1] > images.MAX_PIXELS:
    raise ValueError(f"{image.shape[1]}x{image.shape[0]} is more than the "
                     f"limit of {images.MAX_PIXELS} pixels (MAX_PIXELS)")
  check_refine(refine)
  quality = check_quality(quality, model)
  encoder = load_model(model, precision)
  extra = {} if quality is None else dict(quality=quality)
  if refine:
    from tensorcoder.models import HyperpriorCodec  # pylint: disable=g-import-not-at-top
    if not isinstance(encoder, HyperpriorCodec):
      raise ValueError(f"model {model_id(model)!r} cannot refine its latents "
                       "(hyperprior models can)")
    extra.update(refine=refine)
  strings, side_shape = encoder.compress(image, **extra)
  return container.pack(container.CompressedImage(
      model_id(model), image.shape[0], image.shape[1], tuple(side_shape),
      tuple(strings), quality))


def check_refine(refine: int) -> int:
  """``refine`` (refinement steps), or ValueError unless an int >= 0."""
  if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)):
    raise ValueError(f"the refinement steps must be an integer, got "
                     f"{refine!r}")
  if refine < 0:
    raise ValueError(f"the refinement steps must be 0 or more, got {refine}")
  return int(refine)


def parse(data: bytes) -> container.CompressedImage:
  """Parses container bytes and checks the image size against
  ``images.MAX_PIXELS``; needs no TensorFlow.

  Raises:
    container.ContainerError: naming what is wrong.
  """
  parsed = container.unpack(data)
  if parsed.height * parsed.width > images.MAX_PIXELS:
    raise container.ContainerError(
        f"the file declares a {parsed.width}x{parsed.height} image, more "
        f"than the limit of {images.MAX_PIXELS} pixels (MAX_PIXELS)")
  return parsed


def decompress_bytes(data: bytes, model: Optional[str] = None,
                     precision: Optional[str] = None) -> np.ndarray:
  """Decodes container bytes into a uint8 [H, W, 3] image. With ``model``
  None, the model named in the file is used if it is shipped in the package;
  otherwise its ``.keras`` file must be given. The synthesis transform
  computes in ``precision`` (module docstring).

  Raises:
    container.ContainerError: the bytes are not a valid container (see
      :func:`parse`), its header does not fit its strings (checked before
      decoding), or the strings do not decode.
    ValueError: the file was made with another model.
  """
  parsed = parse(data)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if model is None:
    if _shipped_path(parsed.model_id) is None:
      raise ValueError(f"the file was made with model {parsed.model_id!r}; "
                       "pass that model's .keras file")
    model = parsed.model_id
  elif model_id(model) != parsed.model_id:
    raise ValueError(f"the file was made with model {parsed.model_id!r}, "
                     f"not with {model_id(model)!r}")
  decoder = load_model(model, precision)
  levels = getattr(decoder, "num_qualities", None)
  try:
    decoder.check_header(parsed.strings, (parsed.height, parsed.width),
                         parsed.side_shape)
    if (levels is None) != (parsed.quality is None):
      raise ValueError(
          f"a file with {'no' if parsed.quality is None else 'a'} quality "
          f"level for a {'single' if levels is None else 'variable'}-rate "
          "model")
    if levels is not None and parsed.quality > levels:
      raise ValueError(f"quality {parsed.quality}, but the model has "
                       f"levels 1 to {levels}")
  except ValueError as error:
    raise container.ContainerError(
        f"corrupted file: the header does not fit the data: {error}"
    ) from error
  extra = {} if levels is None else dict(quality=parsed.quality)
  try:
    return decoder.decompress(
        list(parsed.strings), (parsed.height, parsed.width),
        parsed.side_shape, **extra)
  except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as error:
    raise container.ContainerError(
        "the compressed data does not decode: "
        f"{_op_errors.text(error)}") from error


def compress_file(source: str, target: str, model: Optional[str] = None,
                  quality: Optional[int] = None,
                  precision: Optional[str] = None, refine: int = 0) -> dict:
  """Compresses an image file; writes ``target`` atomically."""
  return compress_image(images.load(source), target, model, quality,
                        precision, refine)


def compress_image(image: np.ndarray, target: str,
                   model: Optional[str] = None,
                   quality: Optional[int] = None,
                   precision: Optional[str] = None, refine: int = 0) -> dict:
  """Compresses a uint8 [H, W, 3] image into the file ``target``, written
  atomically; returns its size, bits per pixel, the quality level (None for
  a single-rate model) and the coding time."""
  start = time.perf_counter()
  data = compress_array(image, model, quality, precision, refine)
  seconds = time.perf_counter() - start
  images.write_atomically(target, data)
  return dict(bytes=len(data), bpp=8 * len(data) / image.shape[0] /
              image.shape[1], seconds=seconds, shape=image.shape,
              quality=check_quality(quality, model))


def read_compressed(source: str) -> bytes:
  """The bytes of a ``.tci`` file (ContainerError if unreadable)."""
  try:
    with open(source, "rb") as f:
      return f.read()
  except OSError as error:
    raise container.ContainerError(
        f"{source}: cannot read ({error.strerror})") from error


def decompress_file(source: str, target: str, model: Optional[str] = None,
                    precision: Optional[str] = None) -> dict:
  """Decodes a ``.tci`` file into a PNG; writes ``target`` atomically (on
  any error, nothing is written)."""
  return decompress_to_file(read_compressed(source), target, model,
                            precision)


def decompress_to_file(data: bytes, target: str, model: Optional[str] = None,
                       precision: Optional[str] = None) -> dict:
  """Decodes container bytes into the PNG file ``target``, written
  atomically; returns the image shape and the decoding time."""
  start = time.perf_counter()
  image = decompress_bytes(data, model, precision)
  seconds = time.perf_counter() - start
  images.save_png(target, image)
  return dict(seconds=seconds, shape=image.shape)
