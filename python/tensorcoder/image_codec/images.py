"""Image files, sample images shipped in installed packages, and metrics.

Training and evaluation need no network: besides a user's folder or glob,
natural photographs that ship inside the installed scikit-image and
matplotlib wheels are used. The two sets are disjoint: the default model is
trained on ``TRAIN_IMAGES`` and evaluated on ``EVAL_IMAGES``.
"""

from __future__ import annotations

import glob
import io
import os
from typing import Iterable, Sequence

import numpy as np

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
        if name.lower().endswith((".png", ".jpg", ".jpeg", ".bmp", ".ppm",
                                  ".tif", ".tiff", ".webp")):
          paths.append(os.path.join(source, name))
    elif any(c in source for c in "*?["):
      paths.extend(sorted(glob.glob(source)))
    else:
      paths.append(resolve(source))
  if not paths:
    raise ImageError(f"no images found in {list(sources)}")
  return paths


def load(path: str) -> np.ndarray:
  """An image file as uint8 RGB [H, W, 3].

  Greyscale is replicated to three channels; an alpha channel is dropped
  (composited over black would alter colours; the codec codes RGB only).

  Raises:
    ImageError: the file is missing, empty, or not a readable image.
  """
  from PIL import Image, UnidentifiedImageError  # pylint: disable=g-import-not-at-top
  path = resolve(path)
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as error:
    raise ImageError(f"{path}: cannot read ({error.strerror})") from error
  if not data:
    raise ImageError(f"{path}: the file is empty")
  try:
    with Image.open(io.BytesIO(data)) as image:
      image.load()
      if image.mode in ("I;16", "I", "F"):
        raise ImageError(f"{path}: {image.mode} images (more than 8 bits per "
                         "sample) are not supported")
      rgb = np.asarray(image.convert("RGB"), np.uint8)
  except UnidentifiedImageError as error:
    raise ImageError(f"{path}: not an image file Pillow can read") from error
  except (OSError, SyntaxError) as error:
    raise ImageError(f"{path}: corrupt image ({error})") from error
  if rgb.shape[0] < 1 or rgb.shape[1] < 1:
    raise ImageError(f"{path}: the image has no pixels")
  return rgb


def save_png(path: str, image: np.ndarray) -> None:
  """Writes a uint8 [H, W, 3] image as PNG, atomically."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
  write_atomically(path, buffer.getvalue())


def write_atomically(path: str, data: bytes) -> None:
  """Writes ``data`` to a temporary file beside ``path`` and renames it, so
  that ``path`` is never left partially written."""
  directory = os.path.dirname(os.path.abspath(path))
  temporary = os.path.join(directory, f".{os.path.basename(path)}.tmp{os.getpid()}")
  try:
    with open(temporary, "wb") as f:
      f.write(data)
    os.replace(temporary, path)
  finally:
    if os.path.exists(temporary):
      os.remove(temporary)


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
