"""The golden vectors written by TensorFlow Compression (golden/*.txt/.bin)
through the pybind11 module and the TF ops, and the golden tensor files
through the Python reader: every layer gives the same bytes and values.
(The C++ core and the native decoder check the same files in golden_test.cc
and examples/native_decoder.)"""

import glob
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from tensorcoder import coder  # pylint: disable=g-import-not-at-top
from tensorcoder import tensor_file  # pylint: disable=g-import-not-at-top

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def load_cases():
  cases = []
  for path in sorted(glob.glob(os.path.join(GOLDEN, "*.txt"))):
    fields = {}
    with open(path) as f:
      for line in f:
        key, *values = line.split()
        fields[key] = values
    case = {"name": os.path.basename(path)[:-4], "coder": fields["coder"][0]}
    for key, values in fields.items():
      if key != "coder":
        case[key] = np.array([int(v) for v in values], np.int64)
    with open(path[:-4] + ".bin", "rb") as f:
      case["expected"] = f.read()
    if "lookup" in case:
      case["lookup"] = case["lookup"].reshape(case["lookup_shape"])
    cases.append(case)
  return cases


CASES = load_cases()


def test_there_are_cases_of_every_coder():
  coders = {c["coder"] for c in CASES}
  assert coders == {"range_index", "range_channel", "run_length_gamma",
                    "run_length"}
  assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pybind_layer(case):
  values = case["values"]
  if case["coder"] == "range_index":
    encoded = coder.encode_index(case["lookup"], case["indexes"], values)
    decoded = coder.decode_index(case["lookup"], case["indexes"], encoded)
  elif case["coder"] == "range_channel":
    rows = case["lookup"].shape[0]
    encoded = coder.encode_channel(case["lookup"], values.reshape(-1, rows))
    decoded = coder.decode_channel(case["lookup"], encoded,
                                   (values.size // rows, rows))
  elif case["coder"] == "run_length_gamma":
    encoded = coder.run_length_gamma_encode(values)
    decoded = coder.run_length_gamma_decode(encoded, values.shape)
  else:
    r, m, u = (int(v) for v in case["options"])
    encoded = coder.run_length_encode(values, r, m, bool(u))
    decoded = coder.run_length_decode(encoded, values.shape, r, m, bool(u))
  assert encoded == case["expected"]
  np.testing.assert_array_equal(decoded.ravel(), values)


def test_tf_ops_layer():
  tf = pytest.importorskip("tensorflow")
  from tensorcoder import ops  # pylint: disable=g-import-not-at-top
  for case in CASES:
    values = tf.constant(case["values"], tf.int32)
    if case["coder"] in ("range_index", "range_channel"):
      handle = ops.create_range_encoder([], case["lookup"])
      if case["coder"] == "range_index":
        index = tf.constant(case["indexes"], tf.int32)
        handle = ops.entropy_encode_index(handle, index, values)
      else:
        index = None
        handle = ops.entropy_encode_channel(handle, values)
      encoded = ops.entropy_encode_finalize(handle)
      handle = ops.create_range_decoder(encoded, case["lookup"])
      if index is not None:
        handle, decoded = ops.entropy_decode_index(handle, index,
                                                   [values.shape[0]])
      else:
        handle, decoded = ops.entropy_decode_channel(handle, [values.shape[0]])
      assert ops.entropy_decode_finalize(handle).numpy(), case["name"]
    elif case["coder"] == "run_length_gamma":
      encoded = ops.run_length_gamma_encode(values)
      decoded = ops.run_length_gamma_decode(encoded, values.shape)
    else:
      r, m, u = (int(v) for v in case["options"])
      options = dict(run_length_code=r, magnitude_code=m,
                     use_run_length_for_non_zeros=bool(u))
      encoded = ops.run_length_encode(values, **options)
      decoded = ops.run_length_decode(encoded, values.shape, **options)
    assert encoded.numpy() == case["expected"], case["name"]
    np.testing.assert_array_equal(decoded, case["values"])


TENSOR_FILES = sorted(
    os.path.basename(p)[:-4]
    for p in glob.glob(os.path.join(GOLDEN, "tensor_file_*.tct")))


def test_tensor_files_cover_python_and_tfc_strings():
  assert "tensor_file_index" in TENSOR_FILES
  assert "tensor_file_channel" in TENSOR_FILES
  assert sum(n.startswith("tensor_file_tfc_") for n in TENSOR_FILES) >= 20


@pytest.mark.parametrize("name", TENSOR_FILES)
def test_tensor_files(name):
  stem = os.path.join(GOLDEN, name)
  expected = np.load(stem + ".npy")
  np.testing.assert_array_equal(tensor_file.load(stem + ".tct"), expected)
  with open(stem + ".tct", "rb") as f:
    data = f.read()
  with pytest.raises(ValueError, match="checksum"):
    tensor_file.decode(data[:-1])
  with pytest.raises(ValueError, match="not a tensorcoder tensor file"):
    tensor_file.decode(b"PK" + data[2:])


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
