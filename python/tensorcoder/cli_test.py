"""Tests of the command line, run as ``python -m tensorcoder`` in a
subprocess: every failure is one line on stderr with a non-zero exit status,
no traceback, and no output file."""

import argparse
import dataclasses
import importlib.util
import os
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

from tensorcoder import tensor_file

HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None
needs_tensorflow = pytest.mark.skipif(not HAS_TENSORFLOW,
                                      reason="needs TensorFlow")


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  env.pop("TENSORCODER_TRACEBACK", None)
  env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # The CLI must quieten TF itself.
  return subprocess.run([sys.executable, "-m", "tensorcoder", *args],
                        cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=600, check=False)


def assert_fails(result: subprocess.CompletedProcess, message: str,
                 directory, status: int = 1) -> None:
  """One clear line on stderr matching ``message``, exit ``status``, and
  nothing new in ``directory`` besides the inputs ("in*")."""
  assert result.returncode == status, result.stderr
  lines = result.stderr.splitlines()
  assert len(lines) == 1, result.stderr
  assert re.match(r"tensorcoder( [a-z-]+)?: error: ", lines[0]), lines[0]
  assert re.search(message, lines[0]), lines[0]
  leftovers = [name for name in os.listdir(directory)
               if not name.startswith("in")]
  assert not leftovers, leftovers


def png(width: int, height: int, bit_depth: int = 8, color_type: int = 2,
        pixels: bool = False) -> bytes:
  """A PNG with the given header; with ``pixels`` False the image data is a
  stub, enough for readers that stop at the header."""
  def chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data)))
  channels = {0: 1, 2: 3, 6: 4}[color_type]
  row = bytes(1 + width * channels * bit_depth // 8)  # Filter 0, black.
  data = zlib.compress(row * height if pixels else b"\0")
  return (b"\x89PNG\r\n\x1a\n" +
          chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth,
                                     color_type, 0, 0, 0)) +
          chunk(b"IDAT", data) + chunk(b"IEND", b""))


# -- tensor files -------------------------------------------------------------


def tensor_bytes(shape, rows: int = 1, width: int = 3) -> bytes:
  """A channel-mode tensor file of one symbol of probability 1 (any lookup
  size may be declared), with a valid checksum."""
  body = b"".join([
      tensor_file.MAGIC, struct.pack("<HBB", 1, 0, len(shape)),
      struct.pack(f"<{len(shape)}Q", *shape), struct.pack("<II", rows, width),
      np.array([16, 0, 1 << 16], "<i4").tobytes(), struct.pack("<Q", 1),
      struct.pack("<Q", 8), b"\0" * 8])
  return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("data, message", [
    (tensor_bytes((1, 1 << 29)), r"more than 268435456 \(2\^28\) values"),
    (tensor_bytes((1, 1), rows=1 << 31, width=1 << 31),
     "truncated while reading the lookup"),
    (b"TCTENSOR" + bytes(20), "checksum mismatch"),
    (b"", "no TCTENSOR signature"),
], ids=["2^29 values", "huge lookup", "corrupted", "empty"])
def test_decode_tensor_refuses_bad_files(tmp_path, data, message):
  (tmp_path / "in.tct").write_bytes(data)
  result = run_cli("decode-tensor", "in.tct", "out.npy", cwd=tmp_path)
  assert_fails(result, message, tmp_path)


def test_tensor_commands_round_trip(tmp_path):
  values = np.random.default_rng(0).integers(0, 2, (3, 2))
  np.save(tmp_path / "in_values.npy", values)
  np.save(tmp_path / "in_lookup.npy",
          np.array([[16, 0, 40000, 65536], [16, 0, 100, 65536]]))
  assert run_cli("encode-tensor", "in_values.npy", "in_lookup.npy", "t.tct",
                 cwd=tmp_path).returncode == 0
  # The output has exactly the given name (np.save would append .npy).
  assert run_cli("decode-tensor", "t.tct", "decoded", cwd=tmp_path
                 ).returncode == 0
  np.testing.assert_array_equal(np.load(tmp_path / "decoded"), values)


@pytest.mark.parametrize("args, message", [
    (("decode-tensor", "in_missing.tct", "out.npy"),
     "in_missing.tct: No such file or directory"),
    (("decode-tensor", "in.tct", "in_file/out.npy"), "is not a folder"),
    (("encode-tensor", "in.tct", "in.tct", "out.tct"),
     "pickled data|allow_pickle|Failed to interpret"),
    (("encode-tensor", "in_float.npy", "in_float.npy", "out.tct"),
     "must hold integers"),
    (("compress",), "the following arguments are required: FILE"),
    (("no-such-command",), "invalid choice"),
], ids=["missing input", "output folder is a file", "not a .npy",
        "float values", "missing argument", "unknown command"])
def test_bad_arguments(tmp_path, args, message):
  (tmp_path / "in.tct").write_bytes(tensor_bytes((1, 1)))
  (tmp_path / "in_file").write_bytes(b"")
  np.save(tmp_path / "in_float.npy", np.zeros((2, 2)))
  usage = args[0] == "compress" or args[0].startswith("no-")
  assert_fails(run_cli(*args, cwd=tmp_path), message, tmp_path,
               status=2 if usage else 1)


@pytest.mark.parametrize("error, message", [
    (MemoryError(), "out of memory"),
    (struct.error("unpack requires a buffer of 8 bytes"),
     r"malformed input \(unpack requires a buffer of 8 bytes\)"),
    (FileNotFoundError(2, "No such file or directory", "x.png"),
     "x.png: No such file or directory"),
    (ValueError("two\nlines"), "two lines"),
    (KeyError("k"), "KeyError: 'k'"),
], ids=["MemoryError", "struct.error", "OSError", "multi-line", "KeyError"])
def test_any_exception_is_reported_in_one_line(capsys, error, message):
  """In-process, for errors that are hard to cause from outside."""
  from tensorcoder import cli  # pylint: disable=g-import-not-at-top
  def fail(_):
    raise error
  assert cli._run(argparse.Namespace(command="x", run=fail)) == 1  # pylint: disable=protected-access
  lines = capsys.readouterr().err.splitlines()
  assert len(lines) == 1 and re.fullmatch("tensorcoder x: error: " + message,
                                          lines[0]), lines


@needs_tensorflow
def test_tensorflow_errors_are_reported_in_one_line():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder import cli  # pylint: disable=g-import-not-at-top
  error = tf.errors.ResourceExhaustedError(
      None, None, "OOM when allocating tensor\n\t [[{{node Conv2D}}]]")
  assert cli.describe(error) == ("out of memory in TensorFlow: OOM when "
                                 "allocating tensor")


@needs_tensorflow
def test_tensorflow_internals_are_left_out_of_the_line():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder import cli  # pylint: disable=g-import-not-at-top
  error = tf.errors.InvalidArgumentError(
      None, None, "{{function_node __wrapped__EntropyModelDecode_device_/job:"
      "localhost/replica:0/task:0/device:CPU:0}} string 0, chunk 0: range "
      "decoder: the string is truncated [Op:EntropyModelDecode]")
  assert cli.describe(error) == ("TensorFlow InvalidArgumentError: string 0, "
                                 "chunk 0: range decoder: the string is "
                                 "truncated")
  error = tf.errors.InvalidArgumentError(
      None, None, "Input to reshape is a tensor with 3 values\n\t "
      "[[{{node Reshape}}]] [Op:__inference_f_12]")
  assert cli.describe(error) == ("TensorFlow InvalidArgumentError: Input to "
                                 "reshape is a tensor with 3 values")


# -- images -------------------------------------------------------------------


def _rgba(alpha: int) -> bytes:
  import io  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  pixels = np.full((4, 5, 4), alpha, np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format="PNG")
  return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"not an image", "not an image file Pillow can read"),
    (b"", "the file is empty"),
    (None, "cannot read \\(No such file or directory\\)"),
    (png(15000, 15000), "too large, more than the limit of 67108864 pixels"),
    (png(9000, 8000), "9000x8000 is 72000000 pixels, more than the limit"),
    (png(3, 2, bit_depth=16, pixels=True), "16-bit RGB images are not "
     "supported"),
    (png(4, 4, bit_depth=16, color_type=0, pixels=True),
     "16-bit greyscale images are not supported"),
    (_rgba(100), "20 pixels are not opaque"),
    (png(8, 8, pixels=True)[:-30], "corrupt image|not an image"),
], ids=["garbage", "empty", "missing", "decompression bomb",
        "over MAX_PIXELS", "16-bit RGB", "16-bit greyscale", "transparent",
        "truncated"])
def test_compress_refuses_bad_images(tmp_path, data, message):
  if data is not None:
    (tmp_path / "in.png").write_bytes(data)
  result = run_cli("compress", "in.png", "out.tci", cwd=tmp_path)
  assert_fails(result, message, tmp_path)


def test_compress_refuses_an_unwritable_output(tmp_path):
  (tmp_path / "in.png").write_bytes(png(4, 4, pixels=True))
  (tmp_path / "in_file").write_bytes(b"")
  assert_fails(run_cli("compress", "in.png", "in_file/out.tci",
                       cwd=tmp_path), "cannot write in_file/out.tci: .* is "
               "not a folder", tmp_path)
  assert_fails(run_cli("compress", "in.png", ".", cwd=tmp_path),
               "cannot write .: it is a folder", tmp_path)
  if os.geteuid() != 0:  # Permissions do not bind root.
    read_only = tmp_path / "in_read_only"
    read_only.mkdir(mode=0o555)
    assert_fails(run_cli("compress", "in.png", "in_read_only/out.tci",
                         cwd=tmp_path), "not writable", tmp_path)


def _container(height=48, width=40, side=(1, 1), strings=(b"y", b"z")):
  from tensorcoder.image_codec import container  # pylint: disable=g-import-not-at-top
  return container.pack(container.CompressedImage(
      "hyperprior-v1", height, width, side, strings))


@pytest.mark.parametrize("data, message", [
    (_container()[:-7], "truncated|checksum"),
    (_container()[:20] + b"\xff" + _container()[21:], "checksum mismatch"),
    (png(4, 4, pixels=True), "not a tensorcoder image file"),
    (b"", "not a tensorcoder image file"),
    (None, "cannot read \\(No such file or directory\\)"),
    (_container(70000, 70000, (1094, 1094)),
     "declares a 70000x70000 image, more than the limit"),
], ids=["truncated", "corrupted", "foreign", "empty", "missing",
        "over MAX_PIXELS"])
def test_decompress_refuses_bad_files(tmp_path, data, message):
  if data is not None:
    (tmp_path / "in.tci").write_bytes(data)
  assert_fails(run_cli("decompress", "in.tci", "out.png", cwd=tmp_path),
               message, tmp_path)


@needs_tensorflow
def test_one_pixel_round_trip_and_forged_headers(tmp_path):
  from tensorcoder.image_codec import container  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import images  # pylint: disable=g-import-not-at-top
  (tmp_path / "in.png").write_bytes(png(1, 1, pixels=True))
  result = run_cli("compress", "in.png", "in.tci", cwd=tmp_path)
  assert result.returncode == 0 and not result.stderr, result.stderr
  result = run_cli("decompress", "in.tci", "out.png", cwd=tmp_path)
  assert result.returncode == 0 and not result.stderr, result.stderr
  assert images.load(str(tmp_path / "out.png")).shape == (1, 1, 3)
  os.remove(tmp_path / "out.png")
  # The review's case: a header that claims another size than the latents,
  # with a valid checksum, used to decode to the latents' size. (Wrong
  # string counts are tested in image_codec/codec_test.py.)
  parsed = container.unpack((tmp_path / "in.tci").read_bytes())
  (tmp_path / "in_forged.tci").write_bytes(container.pack(
      dataclasses.replace(parsed, height=4000, width=4000)))
  assert_fails(run_cli("decompress", "in_forged.tci", "out.png",
                       cwd=tmp_path),
               r"the header does not fit the data: the side shape \(1, 1\) "
               r"does not match a 4000x4000 image, for which this model "
               r"writes \(63, 63\)", tmp_path)


@needs_tensorflow
@pytest.mark.parametrize("args, message", [
    (("evaluate", "in_missing.png"), "in_missing.png: cannot read"),
    (("train", "--data", "in_missing.png", "--model-dir", "in_model",
      "--steps", "1"), "in_missing.png: cannot read"),
    (("train", "--data", "in_missing.png", "--model-dir", "new_model",
      "--steps", "1"), "in_missing.png: cannot read"),
], ids=["evaluate", "train", "train_new_dir"])
def test_other_image_commands_fail_in_one_line(tmp_path, args, message):
  # No file or folder is left behind: `train` creates --model-dir only
  # once its inputs have been read.
  assert_fails(run_cli(*args, cwd=tmp_path), message, tmp_path)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))


def _start_in_subprocess(prelude: str, checks: str) -> str:
  code = "\n".join([
      "import importlib.abc, sys", prelude,
      "from tensorcoder import cli", "cli._start_tensorflow(plots=False)",
      checks, "print('ok')"])
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  result = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=600,
                          check=False)
  assert result.returncode == 0, result.stderr
  return result.stdout


@needs_tensorflow
def test_coding_commands_start_without_matplotlib():
  """compress and decompress start TensorFlow and Keras without loading
  matplotlib (Keras' optional import of it is slow), and leave it
  importable afterwards."""
  out = _start_in_subprocess("", "\n".join([
      "assert 'keras' in sys.modules and 'tensorcoder.models' in sys.modules",
      "assert 'matplotlib' not in sys.modules",
      "import matplotlib.pyplot"]))
  assert out.strip() == "ok"


@needs_tensorflow
def test_a_keras_that_needs_matplotlib_gets_it():
  """If importing Keras fails for want of matplotlib (simulated: the first
  import of keras imports matplotlib.pyplot), the start is retried with it
  visible."""
  prelude = "\n".join([
      "class NeedsMatplotlib(importlib.abc.MetaPathFinder):",
      "  tried = False",
      "  def find_spec(self, name, path=None, target=None):",
      "    if name == 'keras' and not self.tried:",
      "      NeedsMatplotlib.tried = True",
      "      import matplotlib.pyplot",
      "    return None",
      "sys.meta_path.insert(0, NeedsMatplotlib())"])
  out = _start_in_subprocess(prelude, "\n".join([
      "assert NeedsMatplotlib.tried",
      "assert 'keras' in sys.modules and 'matplotlib.pyplot' in sys.modules",
      "assert not any(type(f).__name__ == '_Hidden' for f in sys.meta_path)"]))
  assert out.strip() == "ok"
