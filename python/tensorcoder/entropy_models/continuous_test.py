"""Tests of the continuous, universal and Laplace entropy models."""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

import tensorcoder as tc  # pylint: disable=g-import-not-at-top
from tensorcoder import distributions as tcd  # pylint: disable=g-import-not-at-top
from tensorcoder import entropy_models as tem  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


# Two logical CPUs for the MirroredStrategy test; possible only before
# TensorFlow initializes its devices (under pytest that may have happened).
try:
  tf.config.set_logical_device_configuration(
      tf.config.list_physical_devices("CPU")[0],
      [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError:
  pass

SCALES = tem.GeometricScales(0.11, 256.0, 64)


def location_scale(**kwargs):
  return tem.LocationScaleIndexedEntropyModel(
      tcd.NoisyNormal, 64, SCALES, **kwargs)


def scale_index(scale: float) -> int:
  return int(round(np.log(scale / 0.11) / np.log(256 / 0.11) * 63))


# -- round trips ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("coding_rank", [1, 2, 3])
def test_batched_round_trip(dtype, coding_rank):
  prior = tcd.NoisyLogistic(loc=[0.3, -2.0, 0.0], scale=[1.0, 4.0, 0.5])
  model = tem.ContinuousBatchedEntropyModel(
      prior, coding_rank=coding_rank, compression=True, bottleneck_dtype=dtype)
  rng = np.random.default_rng(coding_rank)
  x = rng.normal(0, 6, (2, 5, 4, 3)).astype(np.float32)
  x[0, 0, 0] = [1e4, -3e4, 70.0]  # Far outside the tables: overflow escape.
  x = tf.cast(x, dtype)
  strings = model.compress(x)
  assert strings.shape == x.shape[:4 - coding_rank]
  broadcast = x.shape[4 - coding_rank:-1]
  decoded = model.decompress(strings, broadcast)
  assert decoded.dtype == tf.as_dtype(dtype)
  np.testing.assert_array_equal(decoded.numpy(), model.quantize(x).numpy())


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("coding_rank", [1, 2, 3])
def test_location_scale_round_trip_with_loc(dtype, coding_rank):
  model = location_scale(coding_rank=coding_rank, compression=True,
                         bottleneck_dtype=dtype)
  rng = np.random.default_rng(7)
  shape = (2, 3, 5, 4)
  x = tf.cast(rng.normal(0, 5, shape), dtype)
  loc = tf.cast(rng.normal(0, 2, shape), dtype)
  indexes = rng.integers(0, 64, shape)
  x = tf.tensor_scatter_nd_update(x, [[0, 0, 0, 0]], tf.cast([5e4], dtype))
  strings = model.compress(x, indexes, loc=loc)
  decoded = model.decompress(strings, indexes, loc=loc)
  np.testing.assert_array_equal(decoded.numpy(),
                                model.quantize(x, loc=loc).numpy())


def test_small_units_give_tfc_bytes_and_large_units_chunk():
  model = location_scale(coding_rank=3, compression=True)
  rng = np.random.default_rng(13)
  for shape in ((2, 8, 8, 16), (1, 32, 32, 192)):  # 1024 and 196608 values.
    indexes = rng.integers(5, 40, shape).astype(np.int32)
    y = (rng.normal(size=shape) * SCALES(indexes.astype(np.float32))).numpy()
    strings = model.compress(y, indexes)
    np.testing.assert_array_equal(model.decompress(strings, indexes),
                                  np.round(y))
    # The plain TFC-compatible ops on the same symbols.
    batch = shape[0]
    rows = indexes.reshape(batch, -1)
    symbols = (np.round(y).astype(np.int32).reshape(batch, -1) -
               model.cdf_offset.numpy()[rows])
    handle = tc.create_range_encoder([batch], model.cdf)
    handle = tc.entropy_encode_index(handle, rows, symbols)
    plain = tc.entropy_encode_finalize(handle).numpy()
    ours = strings.numpy()
    if y[0].size < 2**17:
      assert list(ours) == list(plain)
    else:  # Three chunks: header of 2 sizes, a few bytes of terminations.
      assert 0 < len(ours[0]) - len(plain[0]) <= 8 + 3 * 4


def test_mixed_float16_policy_sets_bottleneck_dtype():
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    model = tem.ContinuousBatchedEntropyModel(
        tcd.NoisyNormal(0.0, 2.0), coding_rank=1, compression=True)
    assert model.bottleneck_dtype == tf.float16
    x = tf.constant([[0.4, 3.7, -12.2, 900.0]], tf.float16)
    y, bits = model(x, training=True)
    assert y.dtype == tf.float16 and bits.dtype == tf.float32
    decoded = model.decompress(model.compress(x), [4])
    np.testing.assert_array_equal(decoded.numpy(), model.quantize(x).numpy())
  finally:
    keras.mixed_precision.set_global_policy("float32")


def test_indexed_with_several_index_ranges():
  model = tem.ContinuousIndexedEntropyModel(
      tcd.NoisyLogistic, index_ranges=(4, 3),
      parameter_fns=dict(loc=lambda i: i[..., 0] - 2.0,
                         scale=lambda i: tf.exp(i[..., 1])),
      coding_rank=1, compression=True)
  assert model.cdf.shape[0] == 12
  rng = np.random.default_rng(1)
  x = rng.normal(0, 3, (3, 10)).astype(np.float32)
  indexes = np.stack([rng.integers(0, 4, (3, 10)),
                      rng.integers(0, 3, (3, 10))], -1)
  decoded = model.decompress(model.compress(x, indexes), indexes)
  np.testing.assert_array_equal(decoded.numpy(), np.round(x))


def test_universal_models_round_trip():
  prior = tcd.NoisyNormal(loc=0.0, scale=[1.0, 3.0])
  model = tem.UniversalBatchedEntropyModel(prior, coding_rank=2,
                                           compression=True)
  x = np.random.default_rng(2).normal(0, 3, (4, 6, 2)).astype(np.float32)
  quantized = model.quantize(x).numpy()
  assert np.all(np.abs(quantized - x) <= 0.5 + 1e-6)
  assert not np.allclose(quantized, np.round(x))  # The dither is used.
  np.testing.assert_allclose(model.decompress(model.compress(x), [6]),
                             quantized, atol=1e-6)
  indexed = tem.UniversalIndexedEntropyModel(
      tcd.NoisyNormal, index_ranges=8,
      parameter_fns=dict(loc=lambda _: 0.0, scale=lambda i: 0.5 + i),
      coding_rank=1, compression=True)
  indexes = np.random.default_rng(3).integers(0, 8, (4, 6))
  y = x[..., 0]
  decoded = indexed.decompress(indexed.compress(y, indexes), indexes)
  np.testing.assert_allclose(decoded, indexed.quantize(y), atol=1e-6)


def test_laplace_and_power_law_round_trip():
  x = np.random.default_rng(4).laplace(0, 2, (3, 50)).astype(np.float32)
  for model in (tem.LaplaceEntropyModel(coding_rank=1, l1=0.1),
                tem.LaplaceEntropyModel(coding_rank=1, run_length_code=2,
                                        magnitude_code=-1),
                tem.PowerLawEntropyModel(coding_rank=1)):
    np.testing.assert_array_equal(
        model.decompress(model.compress(x), [50]), np.round(x))
  np.testing.assert_allclose(
      tem.LaplaceEntropyModel(coding_rank=1, l1=0.1).penalty(x),
      0.1 * np.abs(x).sum(-1), rtol=1e-5)


# -- rates -----------------------------------------------------------------------


@pytest.mark.parametrize("log2_scale", range(-2, 8))
def test_bits_bound_coded_length(log2_scale):
  scale = 2.0**log2_scale
  model = location_scale(coding_rank=1, compression=True)
  index = scale_index(scale)
  model_scale = float(SCALES(float(index)))
  rng = np.random.default_rng(log2_scale + 10)
  x = rng.normal(0, model_scale, (4, 4000)).astype(np.float32)
  indexes = np.full(x.shape, index)
  _, bits = model(x, tf.cast(indexes, tf.float32), training=False)
  strings = model.compress(x, indexes).numpy()
  actual = np.array([8 * len(s) for s in strings])
  bits = bits.numpy()
  assert np.all(bits <= actual), (bits, actual)
  assert np.all(actual <= bits * 1.005 + 16), (bits, actual)


def test_bits_bound_holds_for_a_chunked_latent():
  model = location_scale(coding_rank=3, compression=True)
  rng = np.random.default_rng(14)
  shape = (1, 64, 64, 192)
  indexes = rng.integers(0, 64, shape)
  y = rng.normal(size=shape) * SCALES(indexes.astype(np.float32)).numpy()
  _, bits = model(y.astype(np.float32), indexes.astype(np.float32),
                  training=False)
  actual = 8 * len(model.compress(y, indexes).numpy()[0])
  assert float(bits[0]) <= actual <= float(bits[0]) * 1.005 + 16


def test_training_bits_exceed_eval_bits_and_gradients_flow():
  loc = tf.Variable([0.2, -0.1])
  scale = tf.Variable([1.5, 0.7])
  rng = np.random.default_rng(5)
  # Data drawn from the prior, so that the comparison is the one the
  # relaxation is designed for.
  x = tf.Variable((rng.normal(0, 1, (2000, 2)) * [1.5, 0.7] +
                   [0.2, -0.1]).astype(np.float32))
  with tf.GradientTape() as tape:
    model = tem.ContinuousBatchedEntropyModel(
        tcd.NoisyNormal(loc, scale), coding_rank=1)
    train_bits = tf.reduce_mean([tf.reduce_sum(model(x, training=True)[1])
                                 for _ in range(50)])
  eval_bits = tf.reduce_sum(model(x, training=False)[1])
  assert float(train_bits) > float(eval_bits)
  grads = tape.gradient(train_bits, [x, loc, scale])
  assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
  assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_location_scale_gradients_reach_loc_and_indexes():
  model = location_scale(coding_rank=1)
  x = tf.Variable(np.linspace(-3, 3, 12, dtype=np.float32)[None])
  loc = tf.Variable(tf.zeros([1, 12]))
  index = tf.Variable(tf.fill([1, 12], 20.0))
  with tf.GradientTape(persistent=True) as tape:
    values, bits = model(x, index, loc=loc, training=False)
    total = tf.reduce_sum(bits) + tf.reduce_sum(values)
  for variable in (x, loc, index):
    gradient = tape.gradient(total, variable)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0


def test_expected_grads_and_laplace_tail_mass():
  model = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyNormal(0.0, 1.0), coding_rank=1, expected_grads=True,
      laplace_tail_mass=1e-3)
  x = tf.Variable([[0.3, 40.0]])
  with tf.GradientTape() as tape:
    _, bits = model(x, training=True)
  gradient = tape.gradient(bits, x).numpy()
  # Far in the tail, the Laplace component bounds the gradient's size.
  assert np.all(np.isfinite(gradient)) and abs(gradient[0, 1]) < 5


def test_deep_factorized_prior_trains():
  density = tcd.DeepFactorized(batch_shape=[2])
  model = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyDeepFactorized(base=density), coding_rank=1)
  data = np.random.default_rng(6).normal(0, [1.0, 3.0], (256, 2))
  optimizer = keras.optimizers.Adam(0.05)
  first = None
  for _ in range(60):
    with tf.GradientTape() as tape:
      bits = tf.reduce_mean(model(data.astype(np.float32), training=True)[1])
    optimizer.apply_gradients(zip(
        tape.gradient(bits, density.trainable_variables),
        density.trainable_variables))
    first = float(bits) if first is None else first
  assert float(bits) < first - 1.0
  assert model.trainable_weights  # Tracked through the prior's layer.


# -- errors -------------------------------------------------------------------


def test_errors():
  model = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyNormal(0.0, [1.0, 2.0]), coding_rank=1)
  with pytest.raises(RuntimeError, match="compression=False"):
    model.compress(tf.zeros([3, 2]))
  with pytest.raises(ValueError, match="prior shape"):
    model(tf.zeros([3, 5]))
  with pytest.raises(ValueError, match="rank"):
    tem.ContinuousBatchedEntropyModel(tcd.NoisyNormal(0.0, [[1.0]]),
                                      coding_rank=1)
  with pytest.raises(TypeError, match="floating"):
    model(tf.zeros([3, 2], tf.int32))
  coder = location_scale(coding_rank=1, compression=True)
  # Indexes outside [0, 64) are clipped, as in TFC.
  values = tf.constant([[0.0, 3.0, -7.0]] * 2)
  for outside, inside in ((64, 63), (-1, 0), (1000, 63)):
    strings = coder.compress(values, tf.fill([2, 3], outside))
    assert list(strings.numpy()) == list(
        coder.compress(values, tf.fill([2, 3], inside)).numpy())
    np.testing.assert_array_equal(
        coder.decompress(strings, tf.fill([2, 3], outside)), values)
  with pytest.raises(ValueError, match="do not match"):
    coder.compress(tf.zeros([2, 3]), tf.zeros([2, 4], tf.int32))
  with pytest.raises(tf.errors.InvalidArgumentError, match="finite"):
    coder.compress(tf.constant([[np.nan, 0.0]]), tf.zeros([1, 2], tf.int32))
  x = np.random.default_rng(12).normal(0, 3, (2, 300)).astype(np.float32)
  indexes = np.full(x.shape, 25)
  strings = coder.compress(x, indexes)
  try:  # Rejected, or (no redundancy in range codes) other values.
    decoded = coder.decompress(tf.strings.substr(strings, 0, 7), indexes)
    assert not np.array_equal(decoded, np.round(x))
  except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as error:
    assert "corrupt" in str(error) or "range decoder" in str(error)
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError),
                     match="range_coder_precision"):
    location_scale(coding_rank=1, compression=True, range_coder_precision=8)


def test_decode_sanity_check_false_returns_what_was_decoded():
  x = np.random.default_rng(15).normal(0, 3, (2, 400)).astype(np.float32)
  checked = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyNormal(0.0, 3.0), coding_rank=1, compression=True)
  unchecked = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyNormal(0.0, 3.0), coding_rank=1, compression=True,
      decode_sanity_check=False)
  strings = checked.compress(x)
  # Bytes appended: the values decode, but the string is longer than their
  # encoding, which only the check notices.
  corrupt = strings + "\x07" * 3
  with pytest.raises(tf.errors.DataLossError, match="too long"):
    checked.decompress(corrupt, [400])
  decoded = unchecked.decompress(corrupt, [400])
  np.testing.assert_array_equal(decoded, np.round(x))


# -- serialization, tf.function, tf.data, distribution -------------------------


def test_get_config_and_weights_reproduce_strings():
  model = location_scale(coding_rank=2, compression=True)
  clone = tem.LocationScaleIndexedEntropyModel.from_config(model.get_config())
  x = np.random.default_rng(8).normal(0, 4, (2, 6, 5)).astype(np.float32)
  indexes = np.full(x.shape, 30)
  clone.set_weights(model.get_weights())
  np.testing.assert_array_equal(model.compress(x, indexes),
                                clone.compress(x, indexes))
  # The config carries the prior family: the clone can train too.
  assert clone.prior_fn is tcd.NoisyNormal
  batched = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyLogistic(0.3, [1.0, 2.0]), coding_rank=1, compression=True)
  table_only = tem.ContinuousBatchedEntropyModel.from_config(
      batched.get_config())
  table_only.set_weights(batched.get_weights())
  y = x[0, :, :2]
  np.testing.assert_array_equal(batched.compress(y), table_only.compress(y))
  with pytest.raises(NotImplementedError):
    tem.ContinuousBatchedEntropyModel(tcd.NoisyNormal(0.0, 1.0),
                                      coding_rank=1).get_config()


class _Coder(tf.Module):

  def __init__(self):
    super().__init__()
    self.model = location_scale(coding_rank=3, compression=True)

  @tf.function(input_signature=[tf.TensorSpec([None, None, None, 8]),
                                tf.TensorSpec([None, None, None, 8],
                                              tf.int32)])
  def compress(self, x, indexes):
    return self.model.compress(x, indexes)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string),
                                tf.TensorSpec([None, None, None, 8],
                                              tf.int32)])
  def decompress(self, strings, indexes):
    return self.model.decompress(strings, indexes)


def test_saved_model_reloads_in_fresh_process():
  coder = _Coder()
  rng = np.random.default_rng(9)
  x = rng.normal(0, 3, (2, 4, 5, 8)).astype(np.float32)
  indexes = rng.integers(0, 64, x.shape).astype(np.int32)
  strings = coder.compress(x, indexes).numpy()
  with tempfile.TemporaryDirectory() as directory:
    tf.saved_model.save(coder, directory)
    np.save(os.path.join(directory, "x.npy"), x)
    np.save(os.path.join(directory, "i.npy"), indexes)
    script = (
        "import os, sys, numpy as np, tensorflow as tf\n"
        "import tensorcoder.ops\n"  # Registers the custom ops.
        f"d = {directory!r}\n"
        "m = tf.saved_model.load(d)\n"
        "x, i = np.load(d + '/x.npy'), np.load(d + '/i.npy')\n"
        "s = m.compress(x, i).numpy()\n"
        "np.save(d + '/s.npy', s)\n"
        "np.save(d + '/y.npy', m.decompress(s, i).numpy())\n")
    package_root = os.path.dirname(os.path.dirname(tc.__file__))
    subprocess.run([sys.executable, "-c", script], check=True,
                   env=dict(os.environ, PYTHONPATH=package_root))
    reloaded = np.load(os.path.join(directory, "s.npy"), allow_pickle=True)
    decoded = np.load(os.path.join(directory, "y.npy"))
  assert list(reloaded) == list(strings)
  np.testing.assert_array_equal(decoded, np.round(x))


def test_tf_data_map():
  model = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyNormal(0.0, [2.0] * 4), coding_rank=1, compression=True)
  data = np.random.default_rng(10).normal(0, 2, (6, 4)).astype(np.float32)
  dataset = tf.data.Dataset.from_tensor_slices(data).batch(3).map(
      model.compress)
  strings = tf.concat(list(dataset), 0)
  np.testing.assert_array_equal(model.decompress(strings, []),
                                model.quantize(data))


def test_mirrored_strategy_training():
  cpus = tf.config.list_physical_devices("CPU")
  logical = tf.config.list_logical_devices("CPU")
  if len(logical) < 2:
    pytest.skip("needs two logical CPUs (configured at import)")
  del cpus
  strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
  with strategy.scope():
    density = tcd.DeepFactorized(batch_shape=[3])
    model = tem.ContinuousBatchedEntropyModel(
        tcd.NoisyDeepFactorized(base=density), coding_rank=1)
    optimizer = keras.optimizers.Adam(0.05)
    optimizer.build(density.trainable_variables)
  data = np.random.default_rng(11).normal(0, 2, (64, 3)).astype(np.float32)
  dataset = strategy.experimental_distribute_dataset(
      tf.data.Dataset.from_tensor_slices(data).batch(16).repeat(5))

  @tf.function
  def step(batch):
    def replica(x):
      with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x, training=True)[1])
      variables = density.trainable_variables
      optimizer.apply_gradients(zip(tape.gradient(loss, variables),
                                    variables))
      return loss
    losses = strategy.run(replica, args=(batch,))
    return strategy.reduce("MEAN", losses, axis=None)

  losses = [float(step(batch)) for batch in dataset]
  assert np.mean(losses[-4:]) < np.mean(losses[:4])


def test_top_level_names():
  assert tc.LocationScaleIndexedEntropyModel is \
      tem.LocationScaleIndexedEntropyModel
  assert tc.NoisyDeepFactorized is tcd.NoisyDeepFactorized
  assert tc.EntropyBottleneck is tem.EntropyBottleneck


def test_tfp_prior_if_available():
  tfp = pytest.importorskip("tensorflow_probability")
  prior = tcd.UniformNoiseAdapter(tfp.distributions.Normal(0.0, 2.0))
  model = tem.ContinuousBatchedEntropyModel(prior, coding_rank=1,
                                            compression=True)
  x = np.linspace(-9, 9, 17, dtype=np.float32)[None]
  np.testing.assert_array_equal(model.decompress(model.compress(x), [17]),
                                np.round(x))


def test_float_indexes_select_rows_by_floor_as_tfc():
  # TFC casts float indexes to int32 (floor, once clipped to >= 0) to pick
  # the table row; strings written by TFC's models decode only if rows are
  # chosen the same way. tensorcoder 1 rounded; its configs keep rounding.
  def model(**kwargs):
    return tc.LocationScaleIndexedEntropyModel(
        tcd.NoisyNormal, 8, tc.GeometricScales(0.5, 16, 8), coding_rank=1,
        compression=True, **kwargs)
  x = tf.constant([[3.0, -2.0, 7.0, 0.0, 1.0]])
  fractional = tf.constant([[2.7, 0.6, 5.5, 6.9, 3.2]])
  floor = model()
  assert floor.index_rounding == "floor"
  np.testing.assert_array_equal(
      floor.compress(x, fractional).numpy(),
      floor.compress(x, tf.floor(fractional)).numpy())
  nearest = model(index_rounding="nearest")
  np.testing.assert_array_equal(
      nearest.compress(x, fractional).numpy(),
      nearest.compress(x, tf.round(fractional)).numpy())
  assert (floor.compress(x, fractional).numpy() !=
          nearest.compress(x, fractional).numpy()).any()
  np.testing.assert_array_equal(floor.decompress(
      floor.compress(x, fractional), fractional), x)
  # A config saved before index_rounding existed rounds, as it did then.
  config = nearest.get_config()
  assert config["index_rounding"] == "nearest"
  del config["index_rounding"]
  old = tc.LocationScaleIndexedEntropyModel.from_config(config)
  assert old.index_rounding == "nearest"
  assert tc.LocationScaleIndexedEntropyModel.from_config(
      floor.get_config()).index_rounding == "floor"
  with pytest.raises(ValueError, match="index_rounding"):
    model(index_rounding="truncate")


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
