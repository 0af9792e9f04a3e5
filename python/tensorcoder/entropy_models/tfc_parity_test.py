"""TFC-parity tests of the entropy models: tables built inside tf.function,
entropy models attached to built Keras models, Keras (de)serialization,
dtypes, argument checks and TFC's attributes."""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import distributions as tcd  # pylint: disable=g-import-not-at-top
from tensorcoder import entropy_models as tem  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


@pytest.fixture
def mixed_float16():
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy("float32")


def samples(shape, scale=5.0, seed=0):
  return tf.constant(np.random.default_rng(seed).normal(
      0, scale, shape).astype(np.float32))


def location_scale(**kwargs):
  return tem.LocationScaleIndexedEntropyModel(
      tcd.NoisyNormal, 64, tem.GeometricScales(0.11, 256.0, 64),
      coding_rank=1, **kwargs)


# -- 1. tables built inside tf.function ---------------------------------------


@pytest.mark.parametrize("kind", ["batched", "indexed", "universal"])
def test_tables_built_inside_tf_function_equal_eager_tables(kind):
  """TFC's pattern: the model is constructed in the first trace."""
  prior = tcd.NoisyNormal(loc=[0.3, -1.0], scale=[5.0, 2.0])
  x = samples((3, 2))
  indexes = tf.constant([[3, 60], [10, 0], [40, 22]])

  def make():
    if kind == "batched":
      return tem.ContinuousBatchedEntropyModel(prior, 2, compression=True)
    if kind == "universal":
      return tem.UniversalBatchedEntropyModel(prior, 2, compression=True)
    return location_scale(compression=True)

  class Coder:

    def run(self, values):
      if not hasattr(self, "em"):
        self.em = make()
      if kind == "indexed":
        strings = self.em.compress(values, indexes)
        return strings, self.em.decompress(strings, indexes)
      strings = self.em.compress(values)
      return strings, self.em.decompress(strings, [3])

  eager, traced = Coder(), Coder()
  eager_strings, eager_values = eager.run(x)
  traced_strings, traced_values = tf.function(traced.run)(x)
  np.testing.assert_array_equal(traced.em.cdf, eager.em.cdf)
  np.testing.assert_array_equal(traced.em.cdf_offset, eager.em.cdf_offset)
  assert traced.em.cdf.numpy().any()  # Not the zeros of an unrun assign.
  assert list(traced_strings.numpy()) == list(eager_strings.numpy())
  np.testing.assert_array_equal(traced_values, eager_values)
  np.testing.assert_allclose(traced_values, x, atol=0.5)


def test_stateless_model_built_in_every_trace():
  prior = tcd.NoisyLogistic(loc=0.25, scale=3.0)
  x = samples((4, 10))
  eager = tem.ContinuousBatchedEntropyModel(prior, 1, compression=True)

  @tf.function
  def run(values):
    em = tem.ContinuousBatchedEntropyModel(prior, 1, compression=True,
                                           stateless=True)
    strings = em.compress(values)
    return em.cdf, strings, em.decompress(strings, [10])

  cdf, strings, decoded = run(x)
  np.testing.assert_array_equal(cdf, eager.cdf)
  assert list(strings.numpy()) == list(eager.compress(x).numpy())
  np.testing.assert_array_equal(decoded, eager.quantize(x))


# -- 2. entropy model attached to a built Keras model -------------------------


class FactorizedModel(keras.Model):
  """TFC's bls2017 pattern: the coding model is attached after fit."""

  def __init__(self):
    super().__init__()
    self.transform = keras.layers.Dense(4)
    self.prior = tcd.NoisyDeepFactorized(batch_shape=[4])
    self.training_model = tem.ContinuousBatchedEntropyModel(
        self.prior, coding_rank=1, compression=False)

  def call(self, x, training=False):
    y, bits = self.training_model(self.transform(x), training=training)
    self.add_loss(tf.reduce_mean(bits))
    return y

  def fit(self, *args, **kwargs):
    history = super().fit(*args, **kwargs)
    with tem.unlocked_state(self):
      self.entropy_model = tem.ContinuousBatchedEntropyModel(
          self.prior, coding_rank=1, compression=True)
    return history

  @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
  def compress(self, x):
    return self.entropy_model.compress(self.transform(x))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def decompress(self, strings):
    return self.entropy_model.decompress(strings, [])


def test_entropy_model_attached_after_fit_is_saved_by_tf_saved_model():
  model = FactorizedModel()
  model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
  x = samples((32, 3), scale=2.0).numpy()
  before = [np.array(w) for w in model.prior.base.trainable_weights]
  model.fit(x, np.zeros((32, 4), np.float32), epochs=2, verbose=0)
  after = [np.array(w) for w in model.prior.base.trainable_weights]
  assert any(np.abs(a - b).max() > 0 for a, b in zip(after, before))
  # The tables are the model's (non-trainable) weights now.
  names = {w.path.split("/")[-1] for w in model.non_trainable_weights}
  assert {"cdf", "cdf_offset"} <= names
  # Keras' lock is back: another new layer still raises.
  with pytest.raises(ValueError, match="already built"):
    model.extra = keras.layers.Dense(1)
  strings = model.compress(x[:5])
  expected = model.entropy_model.quantize(model.transform(x[:5])).numpy()
  np.testing.assert_array_equal(model.decompress(strings), expected)
  with tempfile.TemporaryDirectory() as tmp:
    tf.saved_model.save(model, os.path.join(tmp, "model"))
    np.save(os.path.join(tmp, "x.npy"), x[:5])
    np.save(os.path.join(tmp, "strings.npy"), strings.numpy())
    np.save(os.path.join(tmp, "expected.npy"), expected)
    code = (
        "import os, sys, numpy as np, tensorflow as tf\n"
        "import tensorcoder  # registers the ops\n"
        "d = sys.argv[1]\n"
        "m = tf.saved_model.load(os.path.join(d, 'model'))\n"
        "s = m.compress(np.load(os.path.join(d, 'x.npy'))).numpy()\n"
        "assert list(s) == list(np.load(os.path.join(d, 'strings.npy'),"
        " allow_pickle=True)), 'strings differ'\n"
        "np.testing.assert_array_equal(m.decompress(s),"
        " np.load(os.path.join(d, 'expected.npy')))\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code, tmp],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.stdout.strip().endswith("ok"), result.stderr[-3000:]


def test_unlocked_state_restores_the_lock_and_ignores_non_layers():
  model = keras.Sequential([keras.layers.Dense(2)])
  layer = keras.layers.Dense(3)
  layer.build((None, 2))
  with pytest.raises(ValueError):
    layer.extra = keras.layers.Dense(1)
  with tem.unlocked_state(layer):
    layer.extra = keras.layers.Dense(1)
  layer.extra.build((None, 3))
  assert len(layer.weights) == 4  # The new sub-layer's weights are tracked.
  with pytest.raises(ValueError):
    layer.other = keras.layers.Dense(1)
  with tem.unlocked_state(object()):
    pass
  with tem.unlocked_state(model):  # Unlocked already: stays so.
    pass
  model.extra = keras.layers.Dense(1)


# -- 3. Keras serialization ---------------------------------------------------


def _round_trip(model):
  config = keras.saving.serialize_keras_object(model)
  clone = keras.saving.deserialize_keras_object(config)
  assert type(clone) is type(model)  # pylint: disable=unidiomatic-typecheck
  if hasattr(model, "get_weights") and not isinstance(
      model, tem.PowerLawEntropyModel):
    clone.set_weights(model.get_weights())
  return clone


def test_batched_models_deserialize_and_code_identically():
  x = samples((3, 20, 2))
  for prior, expect_offset in ((tcd.NoisyNormal([0.25, -0.5], 4.0), True),
                               (tcd.NoisyNormal(0.0, [4.0, 1.0]), False)):
    for cls in (tem.ContinuousBatchedEntropyModel,
                tem.UniversalBatchedEntropyModel):
      model = cls(prior, coding_rank=2, compression=True)
      if cls is tem.ContinuousBatchedEntropyModel:
        assert (model.quantization_offset is not None) == expect_offset
        assert len(model.get_weights()) == 2 + expect_offset
      clone = _round_trip(model)
      strings = model.compress(x)
      assert list(clone.compress(x).numpy()) == list(strings.numpy())
      np.testing.assert_array_equal(clone.decompress(strings, [20]),
                                    model.quantize(x))


def test_indexed_models_deserialize_and_code_identically():
  x = samples((2, 30))
  indexes = np.random.default_rng(3).integers(0, 64, (2, 30))
  for model in (location_scale(compression=True),
                tem.ContinuousIndexedEntropyModel(
                    tcd.NoisyLogistic, (8,), dict(
                        loc=lambda _: 0.0, scale=lambda i: tf.exp(i / 2)),
                    coding_rank=1, channel_axis=None, compression=True),
                tem.UniversalIndexedEntropyModel(
                    tcd.NoisyNormal, 8, dict(
                        loc=lambda _: 0.0, scale=lambda i: tf.exp(i / 2)),
                    coding_rank=1, compression=True)):
    rows = indexes % model.index_ranges[0]
    clone = _round_trip(model)
    strings = model.compress(x, rows)
    assert list(clone.compress(x, rows).numpy()) == list(strings.numpy())
    np.testing.assert_array_equal(clone.decompress(strings, rows),
                                  model.decompress(strings, rows))


def test_run_length_models_deserialize():
  x = samples((2, 16), scale=2.0)
  for model in (tem.PowerLawEntropyModel(1, alpha=0.1),
                tem.LaplaceEntropyModel(1, l1=0.5, magnitude_code=2)):
    clone = _round_trip(model)
    assert clone.get_config() == model.get_config()
    assert list(clone.compress(x).numpy()) == list(model.compress(x).numpy())


def test_tfc_config_and_flat_tables_are_accepted():
  """TFC's config: cdf_shapes as two lengths, quantization_offset a bool."""
  model = tem.ContinuousBatchedEntropyModel(
      prior_shape=[3], coding_rank=1, compression=True, cdf_shapes=(60, 3),
      quantization_offset=True)
  assert model.cdf.shape == (60,) and model.quantization_offset.shape == (3,)
  assert len(model.get_weights()) == 3
  model = tem.ContinuousBatchedEntropyModel(
      prior_shape=[3], coding_rank=1, compression=True, cdf_shapes=(60, 3),
      quantization_offset=False)
  assert model.quantization_offset is None
  assert len(model.get_weights()) == 2


# -- 4. dtypes ----------------------------------------------------------------


def test_mixed_float16_training_of_deep_factorized_prior(mixed_float16):  # pylint: disable=redefined-outer-name,unused-argument
  density = tcd.DeepFactorized(batch_shape=[3])
  model = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyDeepFactorized(base=density), coding_rank=1)
  assert model.bottleneck_dtype == tf.float16
  x = tf.cast(samples((16, 3), scale=3.0), tf.float16)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y, bits = model(x, training=True)
    loss = tf.reduce_mean(bits)
  assert y.dtype == tf.float16 and bits.dtype == density.dtype
  grads = tape.gradient(loss, [x] + density.trainable_weights)
  assert grads[0].dtype == tf.float16
  assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
  assert any(np.abs(g).max() > 0 for g in grads[1:])
  model = tem.ContinuousBatchedEntropyModel(
      tcd.NoisyDeepFactorized(base=density), coding_rank=1, compression=True)
  decoded = model.decompress(model.compress(x), [])
  assert decoded.dtype == tf.float16
  np.testing.assert_array_equal(decoded, model.quantize(x))
  np.testing.assert_allclose(decoded, x, atol=0.5 + 1e-3)


def test_rates_in_prior_dtype_outputs_in_bottleneck_dtype(mixed_float16):  # pylint: disable=redefined-outer-name,unused-argument
  prior = tcd.NoisyNormal(loc=tf.constant(0.5, tf.float64),
                          scale=tf.constant(1.0, tf.float64))
  model = tem.ContinuousBatchedEntropyModel(prior, 1, compression=True)
  x = tf.cast(samples((2, 5), scale=1.0), tf.float16)
  for training in (True, False):
    y, bits = model(x, training=training)
    assert y.dtype == tf.float16 and bits.dtype == tf.float64
    # The rate is the prior's information of the (cast) outputs.
    if not training:
      expected = -np.sum(prior.log_prob(tf.cast(y, tf.float64)), -1) / np.log(2)
      np.testing.assert_allclose(bits, expected, rtol=1e-12)
  indexed = location_scale(compression=True, prior_dtype=tf.float64)
  assert indexed.prior.dtype == tf.float64
  _, bits = indexed(x, tf.fill(x.shape, 20.0), training=False)
  assert bits.dtype == tf.float64


def test_run_length_models_take_the_policy_compute_dtype(mixed_float16):  # pylint: disable=redefined-outer-name,unused-argument
  for model in (tem.PowerLawEntropyModel(1), tem.LaplaceEntropyModel(1)):
    assert model.bottleneck_dtype == tf.float16
    x = tf.cast(samples((2, 5), scale=2.0), tf.float16)
    y, penalty = model(x)
    assert y.dtype == penalty.dtype == tf.float16
    np.testing.assert_array_equal(model.decompress(model.compress(x), [5]),
                                  np.round(x.numpy()))


# -- 5. priors and indexes ----------------------------------------------------


class _VectorPrior(tcd.NoisyNormal):

  @property
  def event_shape(self):
    return tf.TensorShape([2])


def test_non_scalar_priors_are_refused():
  with pytest.raises(ValueError, match="scalar"):
    tem.ContinuousBatchedEntropyModel(_VectorPrior(0.0, 1.0), 1)
  with pytest.raises(ValueError, match="scalar"):
    tem.ContinuousIndexedEntropyModel(
        _VectorPrior, 4, dict(loc=lambda _: 0.0, scale=lambda i: i + 1.0),
        coding_rank=1, compression=True)


def test_integer_indexes_outside_the_ranges_are_clipped():
  model = tem.ContinuousIndexedEntropyModel(
      tcd.NoisyLogistic, index_ranges=(4, 3),
      parameter_fns=dict(loc=lambda i: i[..., 0] - 2.0,
                         scale=lambda i: tf.exp(i[..., 1])),
      coding_rank=1, compression=True)
  x = samples((2, 6), scale=3.0)
  indexes = np.stack([[[-3, 0, 2, 3, 7, 100]] * 2,
                      [[1, -1, 5, 2, 0, 3]] * 2], -1)
  clipped = np.clip(indexes, 0, [3, 2])
  strings = model.compress(x, indexes)
  assert list(strings.numpy()) == list(model.compress(x, clipped).numpy())
  np.testing.assert_array_equal(model.decompress(strings, indexes),
                                np.round(x))
  _, bits = model(x, indexes, training=False)
  _, clipped_bits = model(x, clipped, training=False)
  np.testing.assert_allclose(bits, clipped_bits)
  universal = tem.UniversalIndexedEntropyModel(
      tcd.NoisyNormal, 8, dict(loc=lambda _: 0.0, scale=lambda i: i + 1.0),
      coding_rank=1, compression=True)
  rows = np.array([[-5, 3, 8, 20, 7, 0]] * 2)
  assert list(universal.compress(x, rows).numpy()) == list(
      universal.compress(x, np.clip(rows, 0, 7)).numpy())


# -- 6. TFC's arguments and attributes ---------------------------------------


def test_tfc_attributes_and_arguments():
  prior = tcd.NoisyNormal(loc=[0.5, 0.0], scale=[3.0, 1.0])
  model = tem.ContinuousBatchedEntropyModel(
      prior, coding_rank=2, compression=True, non_integer_offset=False)
  assert model.offset_heuristic is False and model.non_integer_offset is False
  assert model.quantization_offset is None
  model = tem.ContinuousBatchedEntropyModel(prior, 2, compression=True)
  assert model.prior is prior and model.coding_rank == 2
  assert model.compression and not model.stateless
  assert not model.expected_grads and model.tail_mass == 2**-8
  assert model.range_coder_precision == 12 and model.laplace_tail_mass == 0
  assert model.bottleneck_dtype == tf.float32
  assert model.prior_shape == (2,)
  np.testing.assert_array_equal(model.prior_shape_tensor, [2])
  np.testing.assert_allclose(model.quantization_offset, [0.5, 0.0])
  assert model.cdf_shapes == (tuple(model.cdf.shape),
                              tuple(model.cdf_offset.shape))
  assert model.decode_sanity_check
  model.decode_sanity_check = False  # TFC: a plain attribute.
  assert not model.decode_sanity_check
  x, _ = model(samples((3, 4, 2)))  # TFC's default: training=True.
  assert not np.allclose(x, np.round(x.numpy() - [0.5, 0]) + [0.5, 0])
  del model.prior
  with pytest.raises(RuntimeError):
    _ = model.prior
  # compression=False: no tables, the offsets follow the prior.
  model = tem.ContinuousBatchedEntropyModel(prior, 2)
  assert model.stateless
  np.testing.assert_allclose(model.quantization_offset, [0.5, 0.0])
  with pytest.raises(RuntimeError, match="compression"):
    _ = model.cdf
  with pytest.raises(RuntimeError):  # TFC raises RuntimeError.
    model.get_config()
  for name in ("no_variables", "cdf_length", "cdf_max_length"):
    with pytest.raises(TypeError, match=name):
      tem.ContinuousBatchedEntropyModel(prior, 2, **{name: True})
  indexed = location_scale(compression=True)
  assert indexed.index_ranges == (64,) and indexed.channel_axis is None
  assert indexed.prior_dtype == tf.float32 and callable(indexed.prior_fn)
  assert set(indexed.parameter_fns) == {"loc", "scale"}
  universal = tem.UniversalBatchedEntropyModel(prior, 2, compression=True)
  assert universal.num_noise_levels == 15


def test_tensor_laplace_tail_mass_follows_tfc_formula():
  prior = tcd.NoisyNormal(loc=0.0, scale=1.0)
  x = tf.constant([0.0, 0.3, 2.0, 1e3, 1e5])
  fixed = tem.ContinuousBatchedEntropyModel(prior, 1, laplace_tail_mass=1e-3)
  tensor = tem.ContinuousBatchedEntropyModel(
      prior, 1, laplace_tail_mass=tf.constant(1e-3))
  _, bits = fixed(x, training=False)
  _, tensor_bits = tf.function(lambda v: tensor(v, training=False))(x)
  np.testing.assert_allclose(tensor_bits, bits, rtol=1e-6)
  # Far in the tails only the Laplace part counts: |x| / log(2) bits.
  log_probs = fixed._log_prob(prior, x)  # pylint: disable=protected-access
  np.testing.assert_allclose(-log_probs[3:] / np.log(2),
                             x[3:] / np.log(2), rtol=0.01)
  p = prior.prob(x[:3]).numpy()
  laplace = np.array([1 - np.exp(-0.5),
                      1 - np.exp(-0.5) * np.cosh(0.3),
                      np.exp(-2.0) * np.sinh(0.5)])
  np.testing.assert_allclose(log_probs[:3],
                             np.log((1 - 1e-3) * p + 1e-3 * laplace),
                             rtol=1e-5)
