"""TFC 1.x's UnboundedIndexRangeEncode / UnboundedIndexRangeDecode ops in
tensorcoder: TensorFlow Compression 2.14's bytes for every golden case
(golden/unbounded/, see golden/make_unbounded_golden.py), decoding back,
TFC's OpDefs, a GraphDef and a SavedModel written by TFC, and errors."""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
from google.protobuf import text_format  # pylint: disable=g-import-not-at-top
from tensorflow.core.framework import op_def_pb2  # pylint: disable=g-import-not-at-top
from tensorflow.python.framework import op_def_registry  # pylint: disable=g-import-not-at-top

from tensorcoder import ops  # pylint: disable=g-import-not-at-top

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden",
                      "unbounded")
OP_NAMES = ("UnboundedIndexRangeEncode", "UnboundedIndexRangeDecode")


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def load_cases():
  with open(os.path.join(GOLDEN, "cases.json")) as f:
    cases = json.load(f)["cases"]
  for case in cases:
    shape = case["shape"]
    case["data"] = np.array(case["data"], np.int32).reshape(shape)
    case["index"] = np.array(case["index"], np.int32).reshape(shape)
    width = len(case["cdf"][0]) if case["cdf"] else 3
    case["cdf"] = np.array(case["cdf"], np.int32).reshape(-1, width)
    case["cdf_size"] = np.array(case["cdf_size"], np.int32)
    case["offset"] = np.array(case["offset"], np.int32)
    case["encoded"] = bytes.fromhex(case["encoded"])
  return cases


CASES = load_cases()


def tables(case):
  return (case["index"], case["cdf"], case["cdf_size"], case["offset"])


def attrs(case):
  return dict(precision=case["precision"],
              overflow_width=case["overflow_width"])


def test_cases_cover_precisions_widths_escapes_shapes():
  assert len(CASES) >= 40
  assert {c["precision"] for c in CASES} >= {1, 2, 4, 8, 12, 16}
  assert {c["overflow_width"] for c in CASES} >= set(range(1, 17)) - {
      10, 14}
  ranks = {c["data"].ndim for c in CASES}
  assert ranks >= {0, 1, 2, 3}
  assert any(c["data"].size == 0 for c in CASES)
  below = above = 0
  for c in CASES:
    rows = c["index"].ravel()
    value = c["data"].ravel().astype(np.int64) - c["offset"][rows]
    below += int(np.sum(value < 0))
    above += int(np.sum(value >= c["cdf_size"][rows] - 2))
  assert below > 100 and above > 100


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_tfc_bytes_and_back(case):
  encoded = ops.unbounded_index_range_encode(case["data"], *tables(case),
                                             **attrs(case))
  assert encoded.shape == ()
  assert encoded.numpy() == case["encoded"]
  decoded = ops.unbounded_index_range_decode(case["encoded"], *tables(case),
                                             **attrs(case))
  assert decoded.dtype == tf.int32
  np.testing.assert_array_equal(decoded.numpy(), case["data"])
  # debug_level 0 (TFC 1.x's entropy models' choice) writes the same bytes.
  again = ops.unbounded_index_range_encode(case["data"], *tables(case),
                                           debug_level=0, **attrs(case))
  assert again.numpy() == case["encoded"]


def strip_docs(op_def):
  stripped = op_def_pb2.OpDef()
  stripped.CopyFrom(op_def)
  stripped.ClearField("summary")
  stripped.ClearField("description")
  for field in (stripped.input_arg, stripped.output_arg, stripped.attr):
    for arg in field:
      arg.ClearField("description")
  return stripped


def test_op_defs_equal_tfcs():
  with open(os.path.join(GOLDEN, "opdefs.pbtxt")) as f:
    tfc_ops = text_format.Parse(f.read(), op_def_pb2.OpList()).op
  assert [o.name for o in tfc_ops] == list(OP_NAMES)
  for tfc_op in tfc_ops:
    ours = strip_docs(op_def_registry.get(tfc_op.name))
    assert ours == strip_docs(tfc_op), (ours, tfc_op)


def test_shape_functions():
  spec = tf.TensorSpec([2, None, 3], tf.int32)

  @tf.function(input_signature=[spec, spec])
  def code(data, index):
    cdf, cdf_size, offset = [[0, 128, 256]], [3], [0]
    encoded = ops.unbounded_index_range_encode(
        data, index, cdf, cdf_size, offset, precision=8, overflow_width=4)
    decoded = ops.unbounded_index_range_decode(
        encoded, index, cdf, cdf_size, offset, precision=8, overflow_width=4)
    assert encoded.shape.as_list() == []
    assert decoded.shape.as_list() == [2, None, 3]
    return decoded

  data = np.arange(-6, 6, dtype=np.int32).reshape(2, 2, 3)
  np.testing.assert_array_equal(code(data, np.zeros_like(data)), data)


def golden_case(name):
  return next(c for c in CASES if c["name"] == name)


def test_graph_def_written_by_tfc_runs():
  graph_def = tf.compat.v1.GraphDef()
  with open(os.path.join(GOLDEN, "graph.pb"), "rb") as f:
    graph_def.ParseFromString(f.read())
  op_types = {node.op for node in graph_def.node}
  assert set(OP_NAMES) <= op_types
  placeholders = [n.name for n in graph_def.node if n.op == "Placeholder"]
  assert placeholders == ["data", "index", "cdf", "cdf_size", "offset"]
  encode_node = next(n for n in graph_def.node
                     if n.op == "UnboundedIndexRangeEncode")
  assert encode_node.attr["precision"].i == 8
  assert encode_node.attr["overflow_width"].i == 4

  def import_graph():
    tf.compat.v1.import_graph_def(graph_def, name="")

  wrapped = tf.compat.v1.wrap_function(import_graph, [])
  encode_name = encode_node.name
  decode_name = next(n.name for n in graph_def.node
                     if n.op == "UnboundedIndexRangeDecode")
  run = wrapped.prune(
      feeds=[wrapped.graph.get_tensor_by_name(p + ":0")
             for p in placeholders],
      fetches=[wrapped.graph.get_tensor_by_name(encode_name + ":0"),
               wrapped.graph.get_tensor_by_name(decode_name + ":0")])
  case = golden_case("random_p8_w4")
  assert case["data"].ndim == 2
  encoded, decoded = run(*[tf.constant(a) for a in
                           (case["data"],) + tables(case)])
  assert encoded.numpy() == case["encoded"]
  np.testing.assert_array_equal(decoded.numpy(), case["data"])


def test_saved_model_written_by_tfc_loads_and_runs():
  loaded = tf.saved_model.load(os.path.join(GOLDEN, "saved_model"))
  case = golden_case("random_p8_w4")
  index, cdf, cdf_size, offset = tables(case)
  outputs = loaded.signatures["serve"](
      data=tf.constant(case["data"]), index=tf.constant(index),
      cdf=tf.constant(cdf), cdf_size=tf.constant(cdf_size),
      offset=tf.constant(offset))
  assert outputs["encoded"].numpy() == case["encoded"]
  np.testing.assert_array_equal(outputs["decoded"].numpy(), case["data"])


HALF = dict(cdf=[[0, 128, 256]], cdf_size=[3], offset=[0])


def encode(data, index, cdf=HALF["cdf"], cdf_size=HALF["cdf_size"],
           offset=HALF["offset"], precision=8, overflow_width=4):
  return ops.unbounded_index_range_encode(
      data, index, cdf, cdf_size, offset, precision=precision,
      overflow_width=overflow_width)


def decode(encoded, index, cdf=HALF["cdf"], cdf_size=HALF["cdf_size"],
           offset=HALF["offset"], precision=8, overflow_width=4):
  return ops.unbounded_index_range_decode(
      encoded, index, cdf, cdf_size, offset, precision=precision,
      overflow_width=overflow_width)


def test_bad_arguments_are_invalid_argument_errors():
  error = tf.errors.InvalidArgumentError
  with pytest.raises(error, match="same shape"):
    encode([0, 1], [0])
  with pytest.raises(error, match="`index` value 1 at position 0"):
    encode([0], [1])
  with pytest.raises(error, match="`index` value -1"):
    decode(b"", [-1])
  with pytest.raises(error, match="cdf_size"):
    encode([0], [0], cdf_size=[4])
  with pytest.raises(error, match="cdf_size"):
    encode([0], [0], cdf_size=[3, 3])
  with pytest.raises(error, match="offset"):
    encode([0], [0], offset=[])
  with pytest.raises(error, match="2-D"):
    encode([0], [0], cdf=[0, 128, 256])
  with pytest.raises(error, match="2-D"):
    encode([0], [0], cdf=[[0, 256]])
  with pytest.raises(error, match="not monotonic"):
    encode([0], [0], cdf=[[0, 256, 256]])
  with pytest.raises(error, match="end at"):
    encode([0], [0], precision=7)
  with pytest.raises(error, match="start from 0"):
    decode(b"", [0], cdf=[[5, 128, 256]])
  with pytest.raises(error, match="`precision`"):
    encode([0], [0], precision=17)
  with pytest.raises(error, match="`overflow_width`"):
    decode(b"", [0], overflow_width=17)
  with pytest.raises(error, match="scalar"):
    decode([b"", b""], [0])
  with pytest.raises(error, match="debug_level"):
    ops.unbounded_index_range_encode([0], [0], HALF["cdf"], [3], [0],
                                     precision=8, overflow_width=4,
                                     debug_level=2)
  # TFC's encoder never returns for these; tensorcoder raises.
  with pytest.raises(error, match="never terminates"):
    encode([0, 1 + (1 << 15)], [0, 0], overflow_width=16)
  with pytest.raises(error, match="at position 1"):
    encode([0, np.iinfo(np.int32).min], [0, 0], overflow_width=3)


def test_corrupt_strings_are_data_loss_errors():
  encoded = encode([3, -200, 0, 7], [0, 0, 0, 0]).numpy()
  np.testing.assert_array_equal(decode(encoded, [0, 0, 0, 0]),
                                [3, -200, 0, 7])
  with pytest.raises(tf.errors.DataLossError, match="too long"):
    decode(encoded + b"\x00\x01", [0, 0, 0, 0])
  with pytest.raises(tf.errors.DataLossError, match="31 digits"):
    decode(b"\xff" * 16, [0] * 4, cdf=[[0, 1, 2]], precision=1,
           overflow_width=1)
  rng = np.random.default_rng(5)
  for _ in range(200):
    junk = rng.integers(0, 256, rng.integers(0, 20)).astype(np.uint8)
    try:
      decode(junk.tobytes(), np.zeros(int(rng.integers(0, 30)), np.int32),
             overflow_width=int(rng.integers(1, 17)))
    except tf.errors.DataLossError:
      pass


def test_tf_function_round_trip_of_random_values():
  rng = np.random.default_rng(11)
  cdf = np.zeros((3, 9), np.int32)
  cdf[0, :4] = [0, 10, 4000, 4096]
  cdf[1, :9] = [0, 1, 2, 3, 4, 5, 6, 7, 4096]
  cdf[2, :3] = [0, 2048, 4096]
  cdf_size, offset = [4, 9, 3], [-1, 3, 100]

  @tf.function
  def round_trip(data, index):
    encoded = ops.unbounded_index_range_encode(
        data, index, cdf, cdf_size, offset, precision=12, overflow_width=5)
    return encoded, ops.unbounded_index_range_decode(
        encoded, index, cdf, cdf_size, offset, precision=12,
        overflow_width=5)

  index = rng.integers(0, 3, (5, 40)).astype(np.int32)
  data = rng.integers(-(1 << 20), 1 << 20, index.shape).astype(np.int32)
  data[:, ::2] = rng.integers(-3, 10, (5, 20))
  encoded, decoded = round_trip(data, index)
  np.testing.assert_array_equal(decoded, data)
  # Escapes cost more than regular values: the string grows with them.
  assert len(encoded.numpy()) > 100


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
