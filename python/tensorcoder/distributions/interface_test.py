"""Tests of the TFP interface, the TFC fallbacks of the helpers (estimated
tails for priors without ``quantile``), TFC's quantization offsets, dtype
conversions (mixed precision) and event shapes."""

import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import distributions as tcd  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import deep_factorized  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import round_adapters  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import uniform_noise  # pylint: disable=g-import-not-at-top
from tensorcoder.entropy_models.continuous_batched import ContinuousBatchedEntropyModel  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def _tfp():
  return pytest.importorskip("tensorflow_probability")


def normal_cdf(x, loc, scale):
  return 0.5 * math.erfc(-(x - loc) / scale / math.sqrt(2))


# -- TFC's public names ----------------------------------------------------------

TFC_NAMES = {
    helpers: ["estimate_tails", "quantization_offset", "lower_tail",
              "upper_tail"],
    uniform_noise: ["UniformNoiseAdapter", "NoisyMixtureSameFamily",
                    "NoisyNormal", "NoisyLogistic", "NoisyLaplace",
                    "NoisyNormalMixture", "NoisyLogisticMixture"],
    deep_factorized: ["DeepFactorized", "NoisyDeepFactorized", "log_expm1"],
    round_adapters: ["MonotonicAdapter", "RoundAdapter", "NoisyRoundAdapter",
                     "NoisyRoundedNormal", "NoisyRoundedDeepFactorized",
                     "SoftRoundAdapter", "NoisySoftRoundAdapter",
                     "NoisySoftRoundedNormal",
                     "NoisySoftRoundedDeepFactorized"],
}


@pytest.mark.parametrize("module", list(TFC_NAMES), ids=lambda m: m.__name__)
def test_modules_hold_tfcs_names(module):
  for name in TFC_NAMES[module]:
    assert hasattr(module, name), name
  assert set(getattr(module, "__all__")) >= {
      n for n in TFC_NAMES[module] if n != "log_expm1"
      and n not in ("NoisyRoundAdapter", "NoisySoftRoundAdapter")}


# -- priors without quantile: estimated tails -----------------------------------


def test_estimate_tails_solves_monotonic_equations():
  normal = tcd.Normal([0.0, 2.0, -3.0], [1.0, 0.5, 4.0])
  target = math.log(1e-3)
  x = helpers.estimate_tails(normal.log_cdf, target, [3], tf.float32)
  np.testing.assert_allclose(normal.log_cdf(x), target, atol=2e-3)
  np.testing.assert_allclose(x, normal.quantile(1e-3), rtol=1e-3)
  # NaN and a perfect initial guess terminate (TFC's cases).
  helpers.estimate_tails(lambda x: tf.tanh(x) * float("nan"), 0.5, (),
                         tf.float32)
  np.testing.assert_allclose(
      helpers.estimate_tails(tf.tanh, 0.0, (), tf.float32), 0.0)


def test_tfp_mixture_without_quantile_is_a_prior():
  tfp = _tfp()
  mixture = tfp.distributions.MixtureSameFamily(
      tfp.distributions.Categorical(probs=[0.3, 0.7]),
      tfp.distributions.Normal([-2.0, 3.0], [1.0, 2.0]))
  with pytest.raises(NotImplementedError):
    mixture.quantile(0.5)
  prior = tcd.UniformNoiseAdapter(mixture)

  def cdf(x):
    return 0.3 * normal_cdf(x, -2.0, 1.0) + 0.7 * normal_cdf(x, 3.0, 2.0)

  y = np.array([-6.0, -1.3, 0.0, 2.5, 9.0])
  expected = [cdf(v + 0.5) - cdf(v - 0.5) for v in y]
  np.testing.assert_allclose(prior.prob(y), expected, rtol=1e-4)
  np.testing.assert_allclose(prior.log_prob(y), np.log(expected), rtol=1e-4)
  # Tails by TFC's estimate_tails on the log CDF / log survival function.
  lower = float(helpers.lower_tail(prior, 2**-8))
  upper = float(helpers.upper_tail(prior, 2**-8))
  assert cdf(lower) == pytest.approx(2**-9, rel=0.05)
  assert 1 - cdf(upper) == pytest.approx(2**-9, rel=0.05)
  # TFC's offset: no mode, no quantile, so the mean's decimal part.
  mean = 0.3 * -2.0 + 0.7 * 3.0
  offset = float(helpers.quantization_offset(prior))
  assert abs(offset) <= 0.5
  assert (mean - offset) == pytest.approx(round(mean - offset), abs=1e-5)
  # A compression model with it codes and decodes quantized values.
  model = ContinuousBatchedEntropyModel(prior, coding_rank=1,
                                        compression=True)
  x = tf.constant([[0.3, 5.2, -1.0, 20.0]])
  strings = model.compress(x)
  np.testing.assert_allclose(model.decompress(strings, [4]),
                             model.quantize(x), atol=1e-5)


def test_own_mixture_tails_are_exact():
  mixture = tcd.MixtureSameFamily(tcd.Categorical(probs=[0.3, 0.7]),
                                  tcd.Normal([-2.0, 3.0], [1.0, 2.0]))
  with pytest.raises(NotImplementedError):
    mixture.quantile(0.5)
  lower = helpers.lower_tail(mixture, 1e-3)
  upper = helpers.upper_tail(mixture, 1e-3)
  np.testing.assert_allclose(mixture.cdf(lower), 5e-4, rtol=1e-4)
  np.testing.assert_allclose(mixture.survival_function(upper), 5e-4,
                             rtol=1e-4)


# -- quantization offsets ----------------------------------------------------------


@pytest.mark.parametrize("make", [tcd.Normal, tcd.NoisyNormal, tcd.Logistic,
                                  tcd.NoisyLaplace])
def test_offset_is_the_decimal_part_of_the_mode(make):
  d = make(loc=[-3.75, 10.3, 2.0, 0.45], scale=[1.0, 1.5, 2.0, 1.0])
  np.testing.assert_allclose(helpers.quantization_offset(d),
                             [0.25, 0.3, 0.0, 0.45], rtol=1e-5, atol=1e-6)


def test_mixture_offset_is_the_peakiest_components():
  d = tcd.NoisyNormalMixture(loc=[5.4, 8.6], scale=[1.4, 2.0],
                             weight=[0.6, 0.4])
  np.testing.assert_allclose(helpers.quantization_offset(d), 0.4, rtol=1e-5)
  # Batched; the second element's peak is its second component.
  d = tcd.NoisyLogisticMixture(loc=[[0.2, -0.3], [0.2, -0.3]],
                               scale=[[1.0, 1.0], [3.0, 0.2]],
                               weight=[[0.9, 0.1], [0.5, 0.5]])
  np.testing.assert_allclose(helpers.quantization_offset(d), [0.2, -0.3],
                             rtol=1e-5)


def test_deep_factorized_offset_is_the_medians_decimal_part():
  d = tcd.NoisyDeepFactorized(batch_shape=(3,), init_scale=4.0)
  for v in d.base.trainable_weights:
    if "bias" in v.path:
      v.assign(v + 7.3)
  median = d.base.quantile(0.5).numpy()
  offset = helpers.quantization_offset(d).numpy()
  np.testing.assert_allclose(offset, median - np.round(median), atol=1e-5)
  assert (np.abs(offset) <= 0.5).all() and (np.abs(median) > 1).any()


# -- TFP's interface ------------------------------------------------------------------

ALL = {
    "normal": lambda: tcd.Normal(0.5, [1.0, 2.0]),
    "logistic": lambda: tcd.Logistic(0.5, [1.0, 2.0]),
    "laplace": lambda: tcd.Laplace(0.5, [1.0, 2.0]),
    "noisy_normal": lambda: tcd.NoisyNormal(0.5, [1.0, 2.0]),
    "noisy_logistic": lambda: tcd.NoisyLogistic(0.5, [1.0, 2.0]),
    "noisy_laplace": lambda: tcd.NoisyLaplace(0.5, [1.0, 2.0]),
    "normal_mixture": lambda: tcd.NoisyNormalMixture(
        [[0.0, 2.0]] * 2, [1.0, 0.5], [0.3, 0.7]),
    "logistic_mixture": lambda: tcd.NoisyLogisticMixture(
        [[0.0, 2.0]] * 2, [1.0, 0.5], [0.3, 0.7]),
    "mixture": lambda: tcd.MixtureSameFamily(
        tcd.Categorical(logits=[0.0, 1.0]), tcd.Normal([[0.0, 2.0]] * 2, 1.0)),
    "deep_factorized": lambda: tcd.DeepFactorized(batch_shape=(2,)),
    "noisy_deep_factorized": lambda: tcd.NoisyDeepFactorized(
        batch_shape=(2,)),
    "round": lambda: tcd.RoundAdapter(tcd.Normal(0.5, [1.0, 2.0])),
    "soft_round": lambda: tcd.SoftRoundAdapter(tcd.Normal(0.5, [1.0, 2.0]),
                                               4.0),
    "noisy_rounded_normal": lambda: tcd.NoisyRoundedNormal(0.5, [1.0, 2.0]),
    "noisy_soft_rounded_normal": lambda: tcd.NoisySoftRoundedNormal(
        4.0, 0.5, [1.0, 2.0]),
    "noisy_rounded_deep_factorized": lambda: tcd.NoisyRoundedDeepFactorized(
        batch_shape=(2,)),
    "noisy_soft_rounded_deep_factorized": (
        lambda: tcd.NoisySoftRoundedDeepFactorized(batch_shape=(2,))),
}
METHODS = ["prob", "log_prob", "cdf", "log_cdf", "survival_function",
           "log_survival_function", "quantile"]
STATISTICS = ["mean", "mode", "stddev", "variance"]


@pytest.mark.parametrize("name", sorted(ALL))
def test_interface(name):
  d = ALL[name]()
  assert d.batch_shape == (2,) and d.event_shape == ()
  np.testing.assert_array_equal(d.batch_shape_tensor(), [2])
  np.testing.assert_array_equal(d.event_shape_tensor(), [])
  assert d.dtype == tf.float32 and isinstance(d.parameters, dict)
  assert isinstance(d.name, str)
  assert d.validate_args is False and d.allow_nan_stats is True
  x = np.array([[0.3], [-1.2], [2.6]], np.float32)
  for method in METHODS + STATISTICS:
    try:
      value = (getattr(d, method)(0.4 if method == "quantile" else x)
               if method in METHODS else getattr(d, method)())
    except NotImplementedError:  # TFP's contract: not AttributeError.
      continue
    assert value.dtype == tf.float32, method
    assert np.isfinite(value.numpy()).all(), (method, value)
    # Python numbers, float16 and integer tensors are converted.
    if method in METHODS and method != "quantile":
      for other in (tf.constant(x, tf.float16), tf.constant([[1], [-2], [3]])):
        converted = getattr(d, method)(other)
        assert converted.dtype == tf.float32
        np.testing.assert_allclose(
            converted, getattr(d, method)(tf.cast(other, tf.float32)))
  try:
    samples = d.sample((5, 3), seed=7)
  except NotImplementedError:
    assert "deep_factorized" in name  # As TFC: no sampling.
    return
  assert samples.shape == (5, 3, 2) and samples.dtype == tf.float32
  seed = tf.constant([4, 2])
  np.testing.assert_array_equal(d.sample(4, seed=seed), d.sample(4, seed=seed))
  assert d.sample().shape == (2,)


def test_adapters_refuse_what_they_do_not_provide():
  noisy = tcd.NoisyNormal(1.0, 2.0)
  for call in (noisy.mode, lambda: noisy.quantile(0.5),
               lambda: noisy.survival_function(0.5), lambda: noisy.cdf(0.5)):
    with pytest.raises(NotImplementedError):
      call()
  assert float(noisy.mean()) == 1.0
  deep = tcd.NoisyDeepFactorized()
  for call in (deep.mode, deep.mean, deep.sample,
               lambda: deep.quantile(0.5)):
    with pytest.raises(NotImplementedError):
      call()
  rounded = tcd.RoundAdapter(tcd.Logistic(1.5, 1.5))
  with pytest.raises(NotImplementedError):
    rounded.mode()
  soft = tcd.SoftRoundAdapter(tcd.Logistic(10.0, 1.5), 5.0)
  np.testing.assert_allclose(soft.cdf(soft.mode()), 0.5, rtol=1e-5)


def test_parameters_take_tfps_dtypes():
  assert tcd.NoisyNormal(loc=0, scale=[3, 5]).dtype == tf.float32
  d = tcd.Normal(tf.constant(1), tf.constant([2, 3]))
  assert d.dtype == tf.float32 and d.loc.dtype == tf.float32
  assert tcd.Normal(np.float64(1.0), 2.0).dtype == tf.float64
  assert tcd.Logistic(0.0, 1.0, dtype="float64").dtype == tf.float64
  with pytest.raises(TypeError, match="dtypes"):
    tcd.Normal(tf.constant(0.0, tf.float64), tf.constant(1.0))
  mixture = tcd.NoisyNormalMixture(loc=[0, 0], scale=[0, 0], weight=[1, 1])
  assert mixture.dtype == tf.float32
  # TFC's limit case: all mass at 0.
  np.testing.assert_allclose(mixture.prob([0.0, 1.0]), [1.0, 0.0], atol=1e-6)


def test_mixture_samples_follow_the_weights():
  d = tcd.NoisyNormalMixture(loc=[-10.0, 10.0], scale=[0.5, 0.5],
                             weight=[0.25, 0.75])
  samples = d.sample(4000, seed=3).numpy()
  assert 0.7 < (samples > 0).mean() < 0.8
  np.testing.assert_allclose(samples.mean(), -2.5 + 7.5, atol=0.5)
  assert d.mixture_distribution.probs_parameter().shape == (2,)
  assert d.components_distribution.batch_shape == (2,)


# -- event shapes ---------------------------------------------------------------------


def test_event_shapes_are_forwarded():
  tfp = _tfp()
  vector = tfp.distributions.MultivariateNormalDiag(loc=[[0.0, 1.0]] * 3)
  for d in (tcd.UniformNoiseAdapter(vector), tcd.SoftRoundAdapter(vector, 2.0),
            tcd.NoisyRoundAdapter(vector)):
    assert d.event_shape == (2,) and d.batch_shape == (3,)
    np.testing.assert_array_equal(d.event_shape_tensor(), [2])
  mixture = tcd.MixtureSameFamily(
      tfp.distributions.Categorical(probs=[0.5, 0.5]),
      tfp.distributions.MultivariateNormalDiag(loc=[[0.0, 1.0]] * 2))
  assert mixture.event_shape == (2,) and mixture.batch_shape == ()


# -- mixed precision ---------------------------------------------------------------------


def test_mixed_float16_training_with_a_float32_prior():
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    prior = tcd.NoisyDeepFactorized(batch_shape=(4,))
    assert prior.dtype == tf.float32
    model = ContinuousBatchedEntropyModel(prior, coding_rank=1,
                                          compression=False)
    y = tf.random.stateless_normal((8, 4), seed=(7, 7), dtype=tf.float16) * 3
    with tf.GradientTape() as tape:
      outputs, bits = model(y, training=True)
      loss = tf.reduce_sum(bits)
    grads = tape.gradient(loss, prior.trainable_weights)
    assert outputs.dtype == tf.float16
    assert np.isfinite(bits.numpy()).all()
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    # The float16 bottleneck is rated by the float32 prior.
    np.testing.assert_allclose(
        prior.log_prob(y), prior.log_prob(tf.cast(y, tf.float32)))
  finally:
    keras.mixed_precision.set_global_policy("float32")


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
