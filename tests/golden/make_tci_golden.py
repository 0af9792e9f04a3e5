"""Writes golden .tci files of every shipped model (tests/golden/tci/), so
that a later tensorcoder proves it still decodes the files earlier ones
wrote, not only its own.

For each case: ``<case>.tci`` (the container, as ``compress_array`` wrote
it), ``<case>.png`` (the pixels ``decompress_bytes`` gave) and
``<case>_symbols.npy`` (the entropy-decoded integers ``y_hat - loc`` of y:
exact on any machine, where the pixels may differ by a rounding step, as
the transforms compute in floating point). ``source.png`` is the image
compressed: a 48x64 crop of scikit-image's ``astronaut.png`` (NASA, public
domain). Run once per new shipped model, adding its cases; never rewrite
the files of an older model (that would hide a break):

    PYTHONPATH=<tensorcoder tree> python tests/golden/make_tci_golden.py \\
        tests/golden/tci [CASE ...]
"""

import os
import sys

import numpy as np

from tensorcoder.image_codec import codec
from tensorcoder.image_codec import container
from tensorcoder.image_codec import images

# (case, model id, quality): each shipped model, the ends of its ladder and
# its default level.
CASES = (
    ("hyperprior-v1", "hyperprior-v1", None),
    ("ladder-v1_q1", "ladder-v1", 1),
    ("ladder-v1_q8", "ladder-v1", 8),
    ("ladder-v2_q1", "ladder-v2", 1),
    ("ladder-v2_q5", "ladder-v2", 5),
    ("ladder-v2_q8", "ladder-v2", 8),
    ("ladder-v3_q1", "ladder-v3", 1),
    ("ladder-v3_q5", "ladder-v3", 5),
    ("ladder-v3_q8", "ladder-v3", 8),
    ("ladder-v4_q1", "ladder-v4", 1),
    ("ladder-v4_q5", "ladder-v4", 5),
    ("ladder-v4_q8", "ladder-v4", 8),
    ("ladder-v5_q1", "ladder-v5", 1),
    ("ladder-v5_q5", "ladder-v5", 5),
    ("ladder-v5_q8", "ladder-v5", 8),
    ("ladder-v6_q1", "ladder-v6", 1),
    ("ladder-v6_q5", "ladder-v6", 5),
    ("ladder-v6_q8", "ladder-v6", 8),
    ("ladder-v7_q1", "ladder-v7", 1),
    ("ladder-v7_q5", "ladder-v7", 5),
    ("ladder-v7_q8", "ladder-v7", 8),
    ("ladder-v8_q1", "ladder-v8", 1),
    ("ladder-v8_q5", "ladder-v8", 5),
    ("ladder-v8_q8", "ladder-v8", 8),
    ("ladder-v9_q1", "ladder-v9", 1),
    ("ladder-v9_q5", "ladder-v9", 5),
    ("ladder-v9_q8", "ladder-v9", 8),
    ("ladder-v10_q1", "ladder-v10", 1),
    ("ladder-v10_q5", "ladder-v10", 5),
    ("ladder-v10_q8", "ladder-v10", 8),
    ("ladder-v11_q1", "ladder-v11", 1),
    ("ladder-v11_q5", "ladder-v11", 5),
    ("ladder-v11_q8", "ladder-v11", 8),
)


def source_image() -> np.ndarray:
  return images.load("skimage:astronaut.png")[40:88, 180:244]


def symbols(data: bytes) -> np.ndarray:
  """The integers the y string holds, as the file's model decodes them."""
  parsed = codec.parse(data)
  model = codec.load_model(parsed.model_id)
  y_hat, loc, _ = model.decode_latents(list(parsed.strings),
                                       parsed.side_shape)
  return np.round(np.asarray(y_hat - loc)).astype(np.int16)


def main(directory: str, only=()) -> int:
  os.makedirs(directory, exist_ok=True)
  source_path = os.path.join(directory, "source.png")
  if not os.path.exists(source_path):
    images.save_png(source_path, source_image())
  image = images.load(source_path)
  for case, model, quality in CASES:
    if only and case not in only:
      continue
    data = codec.compress_array(image, model, quality=quality)
    assert container.unpack(data).model_id == model
    with open(os.path.join(directory, f"{case}.tci"), "wb") as f:
      f.write(data)
    images.save_png(os.path.join(directory, f"{case}.png"),
                    codec.decompress_bytes(data))
    np.save(os.path.join(directory, f"{case}_symbols.npy"), symbols(data))
    print(f"{case}: {len(data)} bytes")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1], tuple(sys.argv[2:])))
