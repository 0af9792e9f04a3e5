"""The training and validation input pipelines of the image codec (tf.data).

Images are read from their files by ``tf.data`` as training consumes them;
the data set is never held in memory as a whole.

Training elements are numbered 0, 1, 2, ... (element ``i`` is the ``i % B``-th
patch of step ``i // B`` for a global batch size ``B``). Element ``i`` comes
from file ``perm_e[i % n]``, where ``perm_e`` is a permutation of the ``n``
files drawn from ``(seed, e)`` for the pass ``e = i // n`` over the files (the
files are shuffled again on every pass), and its random crop and left-right
flip are drawn from ``(seed, i)`` with stateless ops. So the stream is a pure
function of the seed: the same for every run, cheap to resume at any step
(``start_step``: nothing before it is decoded), and the same whether one or
several input pipelines (workers) share a step.

Pixels are float32 on the 0..255 scale of ``images.load``, which is what the
models' ``rd_loss`` takes (it divides by 255 itself).
"""

from __future__ import annotations

import glob
import os
from typing import Optional, Sequence

import numpy as np

from tensorcoder.image_codec import images as image_io

# What tf.io.decode_image decodes (TIFF, PPM and other formats Pillow reads
# are not accepted by the training pipeline).
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
_INT64_MAX = np.iinfo(np.int64).max


def _is_image(path: str) -> bool:
  return path.lower().endswith(EXTENSIONS) and os.path.isfile(path)


def image_files(sources: Sequence[str]) -> list[str]:
  """The image files that ``sources`` name, sorted and without duplicates.

  Each source is a folder (searched recursively for files whose extension
  is one of ``EXTENSIONS``), a glob (``**`` allowed; folders it matches are
  searched like folders), a file, a ``package:file`` name of an image shipped
  in an installed package, or ``builtin`` for ``images.TRAIN_IMAGES``.

  Raises:
    images.ImageError (a ValueError): a named file does not exist or has an
      extension the pipeline cannot decode, or no image was found at all.
  """
  found: set[str] = set()
  for source in sources:
    if source == "builtin":
      found.update(image_io.resolve(name) for name in image_io.TRAIN_IMAGES)
      continue
    if os.path.isdir(source):
      candidates = [source]
    elif any(c in source for c in "*?["):
      candidates = sorted(glob.glob(source, recursive=True))
    else:
      path = image_io.resolve(source)
      if not os.path.isfile(path):
        raise image_io.ImageError(f"{path}: cannot read (no such file)")
      if not path.lower().endswith(EXTENSIONS):
        raise image_io.ImageError(
            f"{path}: training reads {', '.join(EXTENSIONS)} files only")
      found.add(os.path.normpath(path))
      continue
    for candidate in candidates:
      if os.path.isdir(candidate):
        for root, folders, names in os.walk(candidate):
          folders.sort()
          found.update(os.path.normpath(os.path.join(root, name))
                       for name in names
                       if _is_image(os.path.join(root, name)))
      elif _is_image(candidate):
        found.add(os.path.normpath(candidate))
  if not found:
    raise image_io.ImageError(
        f"no images ({', '.join(EXTENSIONS)}) found in {list(sources)}")
  return sorted(found)


def image_sizes(files: Sequence[str]) -> list[tuple[int, int]]:
  """``(height, width)`` of each file, from its header (nothing is decoded).

  Raises:
    images.ImageError: naming a file that is empty, unreadable or no image.
  """
  from PIL import Image, UnidentifiedImageError  # pylint: disable=g-import-not-at-top
  sizes = []
  for path in files:
    try:
      if os.path.getsize(path) == 0:
        raise image_io.ImageError(f"{path}: the file is empty")
      with Image.open(path) as image:
        width, height = image.size
    except UnidentifiedImageError as error:
      raise image_io.ImageError(f"{path}: not an image file") from error
    except OSError as error:
      raise image_io.ImageError(
          f"{path}: cannot read ({error.strerror or error})") from error
    sizes.append((height, width))
  return sizes


def split_validation(files: Sequence[str], count: int,
                     seed: int) -> tuple[list[str], list[str]]:
  """``(training, validation)``: ``count`` files held aside, drawn from
  ``seed``; both lists keep the order of ``files``.

  Raises:
    ValueError: ``count`` is negative or leaves no training image.
  """
  files = list(files)
  if count < 0 or count >= len(files):
    raise ValueError(f"cannot hold {count} of {len(files)} images aside for "
                     "validation (at least one must remain for training)")
  held = set(np.random.default_rng(seed).permutation(len(files))[:count])
  return ([f for i, f in enumerate(files) if i not in held],
          [f for i, f in enumerate(files) if i in held])


def _decode(path):
  """uint8 [H, W, 3] (greyscale replicated, alpha dropped, first frame)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  image = tf.io.decode_image(tf.io.read_file(path), channels=3,
                             expand_animations=False)
  image.set_shape([None, None, 3])
  return image


def training_dataset(files: Sequence[str], patch_size: int, batch_size: int,
                     seed: int, start_step: int = 0, num_shards: int = 1,
                     shard_index: int = 0,
                     replica_batch_size: Optional[int] = None):
  """An endless ``tf.data.Dataset`` of batches of random patches.

  Each step takes ``batch_size`` patches (see the module docstring for what
  element goes where). With ``num_shards`` input pipelines (e.g. one per
  worker) shard ``shard_index`` yields its ``batch_size // num_shards``
  patches of every step, in batches of ``replica_batch_size`` (default: all
  of them), so that the shards together see what one pipeline would.

  Images smaller than the patch in either dimension are skipped (leave them
  out beforehand with ``image_sizes``: then the steps are exactly as
  described; the in-pipeline check only guards against files that changed).

  Args:
    files: image files (``image_files``).
    patch_size: height and width of the square patches.
    batch_size: patches per training step, all shards together.
    seed: draws the file order and the crops and flips.
    start_step: the first step to produce (for resumption).
    num_shards, shard_index: which share of each step to produce.
    replica_batch_size: the batch size of the elements.

  Returns:
    A dataset of float32 ``[replica_batch_size, patch, patch, 3]`` in 0..255.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if not files:
    raise ValueError("no training images")
  if batch_size % num_shards or not 0 <= shard_index < num_shards:
    raise ValueError(f"batch size {batch_size} cannot be split into "
                     f"{num_shards} shards")
  per_shard = batch_size // num_shards
  replica_batch_size = replica_batch_size or per_shard
  if per_shard % replica_batch_size:
    raise ValueError(f"{per_shard} patches per shard do not split into "
                     f"batches of {replica_batch_size}")
  paths = tf.constant(list(files))
  count = tf.constant(len(files), tf.int64)
  order_key = tf.constant([seed, 1], tf.int64)
  patch_key = tf.constant([seed, 2], tf.int64)

  def indexes(step):
    first = step * batch_size + shard_index * per_shard
    return first + tf.range(per_shard, dtype=tf.int64)

  def element(index):
    order = tf.argsort(tf.random.stateless_uniform(
        [len(files)],
        seed=tf.random.experimental.stateless_fold_in(order_key,
                                                      index // count)))
    path = paths[order[index % count]]
    crop, flip = tf.unstack(tf.random.experimental.stateless_split(
        tf.random.experimental.stateless_fold_in(patch_key, index), 2))
    return path, crop, flip

  def large_enough(image, crop, flip):
    del crop, flip
    shape = tf.shape(image)
    return tf.logical_and(shape[0] >= patch_size, shape[1] >= patch_size)

  def patch(image, crop, flip):
    image = tf.image.stateless_random_crop(image, [patch_size, patch_size, 3],
                                           seed=crop)
    image = tf.image.stateless_random_flip_left_right(image, seed=flip)
    return tf.cast(image, tf.float32)

  autotune = tf.data.AUTOTUNE
  dataset = tf.data.Dataset.range(start_step, _INT64_MAX)
  dataset = dataset.map(indexes).unbatch().map(element)
  dataset = dataset.map(lambda path, crop, flip: (_decode(path), crop, flip),
                        num_parallel_calls=autotune, deterministic=True)
  dataset = dataset.filter(large_enough)
  dataset = dataset.map(patch, num_parallel_calls=autotune,
                        deterministic=True)
  dataset = dataset.batch(replica_batch_size, drop_remainder=True)
  # Endless (2**63 - 1 elements), which unbatch and filter hide from tf.data.
  dataset = dataset.apply(tf.data.experimental.assert_cardinality(
      tf.data.INFINITE_CARDINALITY))
  return dataset.prefetch(autotune)


def validation_dataset(files: Sequence[str], factor: int):
  """Whole images, center-cropped to multiples of ``factor`` (images
  smaller than ``factor`` are skipped), as float32 0..255 batches of 1."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def crop(path):
    image = _decode(path)
    shape = tf.shape(image)
    height, width = shape[0] // factor * factor, shape[1] // factor * factor
    image = image[(shape[0] - height) // 2:(shape[0] - height) // 2 + height,
                  (shape[1] - width) // 2:(shape[1] - width) // 2 + width]
    return tf.cast(image, tf.float32)

  dataset = tf.data.Dataset.from_tensor_slices(tf.constant(list(files),
                                                           tf.string))
  dataset = dataset.map(crop, num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
  dataset = dataset.filter(lambda image: tf.reduce_min(tf.shape(image)[:2]) > 0)
  return dataset.batch(1).prefetch(tf.data.AUTOTUNE)
