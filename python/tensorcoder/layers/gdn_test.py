"""Tests of GDN/IGDN and GDNParameter."""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import layers  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


X = np.random.default_rng(0).normal(0, 2, (2, 3, 4, 5)).astype(np.float32)


def test_default_is_tfc2_form():
  # TFC 2.x: alpha = epsilon = 1, i.e. x / (beta + gamma |x|).
  np.testing.assert_allclose(layers.GDN()(X), X / (1 + 0.1 * np.abs(X)),
                             rtol=1e-5)
  np.testing.assert_allclose(layers.GDN(inverse=True)(X),
                             X * (1 + 0.1 * np.abs(X)), rtol=1e-5)
  relu = np.maximum(X, 0)
  np.testing.assert_allclose(layers.GDN(rectify=True)(X),
                             relu / (1 + 0.1 * relu), rtol=1e-5)


def test_classic_form_and_legacy():
  classic = X / np.sqrt(1 + 0.1 * X**2)
  np.testing.assert_allclose(
      layers.GDN(alpha_parameter=2, epsilon_parameter=.5)(X), classic,
      rtol=1e-5)
  legacy = layers.GDN(legacy=True)
  np.testing.assert_allclose(legacy(X), classic, rtol=1e-5)
  # tensorcoder 1: beta and gamma are the parameter objects (its weights
  # layout); they convert to tensors.
  assert isinstance(legacy.beta, layers.GDNParameter)
  np.testing.assert_allclose(tf.convert_to_tensor(legacy.beta), np.ones(5),
                             rtol=1e-6)
  # A tensorcoder 1 config loads as the legacy layer with its arguments.
  old = layers.GDN.from_config(dict(name="g", inverse=True, rectify=False,
                                    gamma_init=0.2, beta_min=1e-6,
                                    gamma_min=0.0))
  assert old.legacy
  np.testing.assert_allclose(old(X), X * np.sqrt(1 + 0.2 * X**2), rtol=1e-5)


def test_channels_first_any_rank():
  for ndim in [2, 3, 4, 5, 6]:
    x = tf.random.uniform((6, 5, 4, 3, 2, 1)[:ndim])
    y = layers.GDN(data_format="channels_first", alpha_parameter=2,
                   epsilon_parameter=.5)(x)
    np.testing.assert_allclose(y, x / tf.sqrt(1 + .1 * x**2), atol=1e-6)
  with pytest.raises(ValueError):
    layers.GDN(data_format="NHWC")
  with pytest.raises(ValueError):
    layers.GDN()(tf.zeros((3,)))


def test_trained_alpha_epsilon_and_overrides():
  gdn = layers.GDN(alpha_parameter=None, epsilon_parameter=None)
  x = tf.random.uniform((2, 3))
  with tf.GradientTape() as tape:
    y = gdn(x)
  grads = tape.gradient(y, gdn.trainable_weights)
  assert len(grads) == 4 and all(g is not None for g in grads)
  assert isinstance(gdn.alpha_parameter, layers.GDNParameter)
  assert gdn.alpha_parameter.minimum == 1
  np.testing.assert_allclose(gdn.alpha, 1.0, rtol=1e-6)
  # Fixed overrides set before build are used, and create no weights.
  fixed = layers.GDN()
  fixed.beta_parameter = [2.0, 2.0, 2.0]
  fixed.gamma_parameter = np.zeros((3, 3))
  np.testing.assert_allclose(fixed(x), x / 2, rtol=1e-6)
  assert not fixed.weights
  shared = layers.GDNParameter(tf.fill([3], 4.0), name="b")
  with_param = layers.GDN(beta_parameter=shared,
                          gamma_parameter=np.zeros((3, 3)))
  np.testing.assert_allclose(with_param(x), x / 4, rtol=1e-6)
  assert with_param.trainable_weights == shared.trainable_weights
  for name, value in [("inverse", True), ("rectify", False),
                      ("data_format", "channels_last"),
                      ("alpha_parameter", 2), ("beta_parameter", None),
                      ("gamma_parameter", None), ("epsilon_parameter", 1),
                      ("alpha_initializer", "ones"),
                      ("beta_initializer", "ones"),
                      ("gamma_initializer", "ones"),
                      ("epsilon_initializer", "ones")]:
    with pytest.raises(RuntimeError, match="after it has been built"):
      setattr(with_param, name, value)


def test_gdn_parameter_is_bounded_and_converts():
  initial = tf.random.uniform((2, 1, 3))
  p = layers.GDNParameter(initial, name="g", minimum=.5)
  np.testing.assert_allclose(p(), np.maximum(initial, .5), atol=1e-6)
  np.testing.assert_array_equal(tf.convert_to_tensor(p), p())
  assert (p.minimum, p.offset) == (.5, 2**-18)
  assert [w.name for w in p.weights] == ["reparam_g"]
  clone = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(p))
  clone.set_weights(p.get_weights())
  assert clone.name == "g"
  np.testing.assert_array_equal(clone(), p())


def test_parameters_stay_above_their_bounds_under_training():
  gdn = layers.GDN(beta_parameter=layers.GDNParameter(np.ones(3),
                                                      minimum=1e-3))
  x = tf.random.normal([4, 6, 6, 3])
  gdn(x)
  optimizer = keras.optimizers.SGD(10.0)
  for _ in range(5):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(gdn(x))
    optimizer.apply_gradients(zip(tape.gradient(loss, gdn.trainable_weights),
                                  gdn.trainable_weights))
  assert np.all(gdn.beta.numpy() >= 1e-3 - 1e-9)
  assert np.all(gdn.gamma.numpy() >= -1e-9)


@pytest.mark.parametrize("legacy", [False, True])
def test_serialization_round_trip(legacy):
  model = keras.Sequential([keras.Input((8, 8, 3)),
                            layers.GDN(inverse=True, legacy=legacy),
                            layers.GDN(epsilon_parameter=.5)])
  for w in model.weights:
    w.assign(w + 0.05)
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "gdn.keras")
    model.save(path)
    clone = keras.models.load_model(path)
  np.testing.assert_allclose(clone(X[..., :3]), model(X[..., :3]), rtol=1e-6)
  assert clone.layers[0].legacy == legacy
  assert float(clone.layers[1].epsilon) == .5


def test_mixed_float16():
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    for gdn in [layers.GDN(), layers.GDN(inverse=True, legacy=True),
                layers.GDN(alpha_parameter=None, epsilon_parameter=None)]:
      x = tf.random.uniform((2, 4, 3))
      with tf.GradientTape() as tape:
        tape.watch(x)
        y = gdn(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32))
      grads = tape.gradient(loss, [x] + gdn.trainable_weights)
      assert y.dtype == tf.float16
      assert all(g is not None and np.isfinite(g.numpy()).all()
                 for g in grads)
      assert all(w.dtype == "float32" for w in gdn.weights)
  finally:
    keras.mixed_precision.set_global_policy("float32")


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
