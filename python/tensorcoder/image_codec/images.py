"""Image files, sample images shipped in installed packages, and metrics.

Training and evaluation need no network: besides a user's folder or glob,
natural photographs that ship inside the installed scikit-image and
matplotlib wheels are used. The two sets are disjoint: the default model is
trained on ``TRAIN_IMAGES`` and evaluated on ``EVAL_IMAGES``.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import struct
import warnings
from typing import Iterable, Iterator, Sequence

import numpy as np

from tensorcoder import _atomic

# scikit-image's bundled data (colour and greyscale photographs, textures).
TRAIN_IMAGES = (
    "skimage:astronaut.png", "skimage:motorcycle_left.png",
    "skimage:rocket.jpg", "skimage:retina.jpg",
    "skimage:hubble_deep_field.jpg", "skimage:ihc.png", "skimage:brick.png",
    "skimage:grass.png", "skimage:gravel.png", "skimage:camera.png",
    "skimage:moon.png", "skimage:coins.png")
# Never trained on (motorcycle_right is left out: it nearly duplicates
# motorcycle_left).
EVAL_IMAGES = ("skimage:chelsea.png", "skimage:coffee.png",
               "matplotlib:grace_hopper.jpg")


# The largest image, in pixels, that compress, evaluate and train accept and
# that decompress writes: 64 Mi pixels, e.g. 8192x8192 or 10000x6700. It keeps
# decoding within bounded memory (see bench/RESULTS.md) and below Pillow's
# decompression-bomb threshold (about 89 million pixels).
MAX_PIXELS = 1 << 26
# Pillow modes that convert to RGB without loss (alpha only if opaque).
_MODES = ("1", "L", "P", "RGB", "RGBA", "LA", "PA")
# Raw modes of more than 8 bits per sample, with their byte order.
_WIDE_RAWMODE = re.compile(r";(16|32|64)[BLN]S?$")


class ImageError(ValueError):
  """A file that is not an image tensorcoder can compress."""


def _package_dir(package: str) -> str:
  if package == "skimage":
    import skimage  # pylint: disable=g-import-not-at-top
    return os.path.join(os.path.dirname(skimage.__file__), "data")
  if package == "matplotlib":
    import matplotlib  # pylint: disable=g-import-not-at-top
    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data",
                        "sample_data")
  raise ValueError(f"unknown image package {package!r}")


# The files a folder given to compress, evaluate or main-job contributes.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff",
                    ".webp")


def resolve(name: str) -> str:
  """The path of ``name``: a file, or ``package:file`` for a bundled one."""
  if ":" in name and not os.path.exists(name):
    package, _, filename = name.partition(":")
    try:
      path = os.path.join(_package_dir(package), filename)
    except ImportError as error:
      raise ImageError(f"{name}: package {package} is not installed") from error
    if not os.path.exists(path):
      raise ImageError(f"{name}: not found in the installed {package}")
    return path
  return name


def expand(sources: Sequence[str]) -> list[str]:
  """Files from folders, globs, files and ``package:file`` names;
  ``builtin`` stands for ``TRAIN_IMAGES``."""
  paths: list[str] = []
  for source in sources:
    if source == "builtin":
      paths.extend(resolve(name) for name in TRAIN_IMAGES)
    elif os.path.isdir(source):
      for name in sorted(os.listdir(source)):
        if name.lower().endswith(IMAGE_EXTENSIONS):
          paths.append(os.path.join(source, name))
    elif any(c in source for c in "*?["):
      paths.extend(sorted(glob.glob(source)))
    else:
      paths.append(resolve(source))
  if not paths:
    raise ImageError(f"no images found in {list(sources)}")
  return paths


def load(path: str) -> np.ndarray:
  """An image file as uint8 RGB [H, W, 3], without losing information.

  8-bit RGB, greyscale (replicated to three channels), bilevel and palette
  images are accepted, as are images with an alpha channel that is fully
  opaque (it is dropped). Everything that could not be coded without loss
  is refused: transparency, more than 8 bits per sample, other colour
  spaces (CMYK, ...) and animations. Images of more than ``MAX_PIXELS``
  pixels are refused from their header, before the pixels are decoded.

  Raises:
    ImageError: naming the file and what is wrong with it.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  path = resolve(path)
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as error:
    raise ImageError(f"{path}: cannot read ({error.strerror})") from error
  if not data:
    raise ImageError(f"{path}: the file is empty")
  with _pillow_errors(path), warnings.catch_warnings():
    # Sizes are checked against MAX_PIXELS, before decoding.
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    with Image.open(io.BytesIO(data)) as image:
      _check_header(path, image)
      image.load()
      return _to_rgb(path, image)


@contextlib.contextmanager
def _pillow_errors(path: str) -> Iterator[None]:
  """Turns what Pillow raises for bad files into ImageErrors."""
  from PIL import Image, UnidentifiedImageError  # pylint: disable=g-import-not-at-top
  try:
    yield
  except Image.DecompressionBombError as error:
    raise ImageError(f"{path}: the image is too large, more than the limit "
                     f"of {MAX_PIXELS} pixels (Pillow: {error})") from error
  except UnidentifiedImageError as error:
    raise ImageError(f"{path}: not an image file Pillow can read") from error
  except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
    if isinstance(error, ImageError):
      raise
    raise ImageError(f"{path}: corrupt image ({error})") from error


def _check_header(path: str, image) -> None:
  """Refuses, from the header alone, what ``load`` cannot represent."""
  width, height = image.size
  if width < 1 or height < 1:
    raise ImageError(f"{path}: the image has no pixels")
  if width * height > MAX_PIXELS:
    raise ImageError(f"{path}: {width}x{height} is {width * height} pixels, "
                     f"more than the limit of {MAX_PIXELS} (MAX_PIXELS)")
  frames = getattr(image, "n_frames", 1)
  if frames > 1:
    raise ImageError(f"{path}: an animation of {frames} frames; only single "
                     "images are supported")
  if image.mode not in _MODES or _raw_bits(image) > 8:
    raise ImageError(f"{path}: {_describe_mode(image)} images are not "
                     "supported; tensorcoder codes 8-bit RGB, greyscale or "
                     "palette images (convert it first)")


def _raw_bits(image) -> int:
  """Bits per sample stored in the file: Pillow reads 16-bit RGB(A) as
  modes RGB and RGBA, reducing them to 8 bits; only the raw mode of the
  decoder (e.g. ``RGB;16B``, ``RGBA;16L``) tells. (``BGR;16``, 5-6-5 bit
  RGB, has no byte-order suffix and is 8 bits or less per sample.)"""
  bits = 8
  for tile in getattr(image, "tile", None) or ():
    rawmode = tile.args[0] if isinstance(tile.args, tuple) else tile.args
    match = _WIDE_RAWMODE.search(rawmode) if isinstance(rawmode, str) else None
    if match:
      bits = max(bits, int(match.group(1)))
  return bits


def _describe_mode(image) -> str:
  if image.mode.startswith("I;16"):
    return "16-bit greyscale"
  if image.mode in ("I", "F"):
    return {"I": "32-bit integer", "F": "floating-point"}[image.mode]
  bits = _raw_bits(image)
  return f"{bits}-bit {image.mode}" if bits > 8 else f"{image.mode}-mode"


def _to_rgb(path: str, image) -> np.ndarray:
  """uint8 RGB pixels; refuses an alpha channel that is not opaque."""
  if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
    rgba = np.asarray(image.convert("RGBA"), np.uint8)
    transparent = int(np.count_nonzero(rgba[..., 3] != 255))
    if transparent:
      raise ImageError(f"{path}: {transparent} pixels are not opaque; the "
                       "codec stores no transparency, so flatten the image "
                       "onto a background first")
    return np.ascontiguousarray(rgba[..., :3])
  return np.asarray(image.convert("RGB"), np.uint8)


# zlib level of the PNGs ``decompress`` writes: 3 writes a 768x512 photo in
# about a third of the time of Pillow's default 6, for files about 6 %
# larger (the pixels are the same).
PNG_COMPRESS_LEVEL = 3


def save_png(path: str, image: np.ndarray) -> None:
  """Writes a uint8 [H, W, 3] image as PNG, atomically."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  picture = Image.fromarray(np.asarray(image, np.uint8))
  _atomic.write_atomically(path, lambda f: picture.save(
      f, format="PNG", compress_level=PNG_COMPRESS_LEVEL))


def write_atomically(path: str, data: bytes) -> None:
  """Writes ``data`` to a temporary file beside ``path`` and renames it, so
  that ``path`` is never left partially written."""
  _atomic.write_bytes_atomically(path, data)


def random_patches(images: Iterable[np.ndarray], patch_size: int,
                   batch_size: int, rng: np.random.Generator) -> np.ndarray:
  """A batch of random crops (with random flips) of the given images;
  images smaller than the patch are padded by reflection first."""
  images = list(images)
  batch = np.empty((batch_size, patch_size, patch_size, 3), np.uint8)
  for b in range(batch_size):
    image = images[rng.integers(len(images))]
    pad_h = max(0, patch_size - image.shape[0])
    pad_w = max(0, patch_size - image.shape[1])
    if pad_h or pad_w:
      image = np.pad(image, [(0, pad_h), (0, pad_w), (0, 0)], mode="reflect")
    top = rng.integers(image.shape[0] - patch_size + 1)
    left = rng.integers(image.shape[1] - patch_size + 1)
    patch = image[top:top + patch_size, left:left + patch_size]
    if rng.random() < 0.5:
      patch = patch[:, ::-1]
    batch[b] = patch
  return batch


def psnr(a: np.ndarray, b: np.ndarray) -> float:
  mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
  return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
  """MS-SSIM (Wang et al. 2003) via TensorFlow; images smaller than the
  five scales need (161 pixels) fall back to single-scale SSIM."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  x = tf.convert_to_tensor(a[None], tf.float32)
  y = tf.convert_to_tensor(b[None], tf.float32)
  if min(a.shape[:2]) >= 161:
    return float(tf.image.ssim_multiscale(x, y, 255.0)[0])
  if min(a.shape[:2]) >= 11:
    return float(tf.image.ssim(x, y, 255.0)[0])
  return float("nan")
