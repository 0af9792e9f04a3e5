"""Files written by every shipped model decode (golden/tci/, written by
golden/make_tci_golden.py with the models as they shipped): the header as
written, the entropy-decoded integers exactly, the pixels within a
rounding step (the transforms compute in floating point, which another CPU
may round otherwise, and in float32 where the model's bfloat16 is not
native to the CPU: ``image_codec.precision``)."""

import glob
import os
import sys

import numpy as np
import pytest

from tensorcoder.image_codec import codec
from tensorcoder.image_codec import container
from tensorcoder.image_codec import images
from tensorcoder.image_codec import precision

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden",
                      "tci")
CASES = sorted(os.path.basename(p)[:-4]
               for p in glob.glob(os.path.join(GOLDEN, "*.tci")))


def read(case: str) -> bytes:
  with open(os.path.join(GOLDEN, f"{case}.tci"), "rb") as f:
    return f.read()


def test_every_shipped_model_has_golden_files():
  models = {container.unpack(read(case)).model_id for case in CASES}
  assert models == set(codec.shipped_models())
  # The default model's default level is among them.
  assert any(container.unpack(read(case)).model_id == codec.DEFAULT_MODEL_ID
             and container.unpack(read(case)).quality ==
             codec.check_quality(None, None) for case in CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden_file_decodes(case):
  data = read(case)
  parsed = codec.parse(data)
  source = images.load(os.path.join(GOLDEN, "source.png"))
  assert (parsed.height, parsed.width) == source.shape[:2]
  assert case.startswith(parsed.model_id)
  assert (parsed.quality is None) == (codec.qualities(parsed.model_id) is
                                      None)
  # The integers in the y string: exact.
  model = codec.load_model(parsed.model_id)
  y_hat, loc, _ = model.decode_latents(list(parsed.strings),
                                       parsed.side_shape)
  symbols = np.round(np.asarray(y_hat - loc)).astype(np.int16)
  np.testing.assert_array_equal(
      symbols, np.load(os.path.join(GOLDEN, f"{case}_symbols.npy")))
  # The pixels: as written, up to a rounding step of the transforms here
  # (exact on the machine that wrote them), when this CPU computes in the
  # precision they were written in (the model's own).
  expected = images.load(os.path.join(GOLDEN, f"{case}.png"))
  written_in = codec.saved_precision(parsed.model_id)
  decoded = codec.decompress_bytes(data)
  assert model.transform_dtype == precision.coding_precision(written_in)
  if model.transform_dtype == written_in:
    difference = np.abs(decoded.astype(int) - expected)
    assert difference.max() <= 3 and difference.mean() < 0.05, (
        difference.max(), difference.mean())
  # In float32 (where bfloat16 is not native, and on request), a bfloat16
  # model's pixels are a rounding step of bfloat16 away: on this project's
  # machine 2 levels at most, 0.34-0.37 on average, the PSNR within 0.02 dB.
  in_float32 = codec.decompress_bytes(data, precision="float32")
  difference = np.abs(in_float32.astype(int) - expected)
  bound = (0.05, 3) if written_in == "float32" else (0.5, 4)
  assert difference.mean() < bound[0] and difference.max() <= bound[1], (
      difference.max(), difference.mean())
  assert abs(images.psnr(source, in_float32) -
             images.psnr(source, expected)) < 0.05
  # And they are the source image, as well as the level allows.
  assert images.psnr(source, decoded) > 20


def test_a_damaged_golden_file_is_refused():
  data = bytearray(read(CASES[0]))
  with pytest.raises(container.ContainerError):
    codec.decompress_bytes(bytes(data[:len(data) // 2]))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
