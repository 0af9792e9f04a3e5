"""Y4MDataset: TFC's frame layout, several files, and bad files."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.datasets import y4m_dataset  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def _file(tmp_path, name: str, content: bytes) -> str:
  path = tmp_path / name
  path.write_bytes(content)
  return str(path)


def _planes(string: bytes, shape) -> np.ndarray:
  return np.frombuffer(string, np.uint8).reshape(shape)


def test_frames_of_several_files_in_order(tmp_path):
  first = _file(tmp_path, "a.y4m",
                b"YUV4MPEG2 W2 H2 F30:1 Ip A0:0 C420jpeg\nFRAME\nABCDEF")
  second = _file(tmp_path, "b.y4m", b"YUV4MPEG2 C444 W1 H1\nFRAME\nabcFRAME\ndef")
  frames = list(y4m_dataset.Y4MDataset([first, second]))
  assert len(frames) == 3
  expected = [(b"ABCD", (2, 2, 1), b"EF", (1, 1, 2)),
              (b"a", (1, 1, 1), b"bc", (1, 1, 2)),
              (b"d", (1, 1, 1), b"ef", (1, 1, 2))]
  for (y, cbcr), (ys, yshape, cs, cshape) in zip(frames, expected):
    assert y.dtype == tf.uint8 and cbcr.dtype == tf.uint8
    np.testing.assert_array_equal(y, _planes(ys, yshape))
    np.testing.assert_array_equal(cbcr, _planes(cs, cshape))


def test_chroma_planes_are_interleaved(tmp_path):
  luma = bytes(range(16))
  cb, cr = bytes(range(100, 104)), bytes(range(200, 204))
  path = _file(tmp_path, "c.y4m",
               b"YUV4MPEG2 W4 H4 C420jpeg\nFRAME\n" + luma + cb + cr)
  dataset = y4m_dataset.Y4MDataset(path)  # A scalar name works too.
  assert dataset.element_spec == y4m_dataset.Y4MDataset.element_spec
  y, cbcr = next(iter(dataset.map(lambda y, c: (y, c))))
  np.testing.assert_array_equal(y[..., 0], _planes(luma, (4, 4)))
  np.testing.assert_array_equal(cbcr[..., 0], _planes(cb, (2, 2)))
  np.testing.assert_array_equal(cbcr[..., 1], _planes(cr, (2, 2)))


@pytest.mark.parametrize("content,message", [
    (b"YUV4MPEG W2 H2 C444\n", "YUV4MPEG2 marker"),
    (b"YUV4MPEG2 W2 H2 C444", "complete Y4M header"),
    (b"YUV4MPEG2 H2 C444\n", "no width"),
    (b"YUV4MPEG2 W2 C444\n", "no height"),
    (b"YUV4MPEG2 W2 H2\n", "no chroma format"),
    (b"YUV4MPEG2 W0 H2 C444\n", "invalid width"),
    (b"YUV4MPEG2 W2 Hx C444\n", "invalid height"),
    (b"YUV4MPEG2 W2 H2 C422\n", "unsupported chroma format '422'"),
    (b"YUV4MPEG2 W2 H2 C444 It\n", "progressive"),
    (b"YUV4MPEG2 W3 H2 C420jpeg\n", "odd width or height"),
    (b"YUV4MPEG2 W1 H1 C444\nFRAME\nab", "incomplete"),
    (b"YUV4MPEG2 W1 H1 C444\nFRAMX\nabc", "FRAME marker at byte 21"),
    # A header claiming a huge frame is refused before anything is read.
    (b"YUV4MPEG2 W100000 H100000 C444\nFRAME\n", "incomplete"),
])
def test_bad_files_are_refused(tmp_path, content, message):
  path = _file(tmp_path, "bad.y4m", content)
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    list(y4m_dataset.Y4MDataset([path]))


def test_bad_filenames():
  with pytest.raises(ValueError, match="scalar or a vector"):
    y4m_dataset.Y4MDataset([["a", "b"]])
  with pytest.raises(tf.errors.OpError):
    list(y4m_dataset.Y4MDataset(["/nonexistent/file.y4m"]))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
