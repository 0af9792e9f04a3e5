"""Tests that whatever holds a prior tracks, trains and saves its variables.

Keras 3 collects neither ``tf.Module`` objects nor plain ``tf.Variable``s;
the distributions are Keras layers and ``tf.Module`` objects, so Keras
models, ``tf.Module`` holders, ``tf.train.Checkpoint``, SavedModel and
``.keras`` files all see the weights of the density networks they hold.
"""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import distributions as tcd  # pylint: disable=g-import-not-at-top
from tensorcoder.entropy_models.continuous_batched import ContinuousBatchedEntropyModel  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def _mixture_of_deep_factorized():
  # Two DeepFactorized components per element of a batch of 4.
  return tcd.NoisyMixtureSameFamily(
      tcd.Categorical(probs=[0.4, 0.6]),
      tcd.DeepFactorized(batch_shape=(4, 2), num_filters=(3,)))


# Each factory makes a prior of batch shape (4,) built on DeepFactorized.
PRIORS = {
    "noisy_deep_factorized": lambda: tcd.NoisyDeepFactorized(
        batch_shape=(4,)),
    "uniform_noise_adapter": lambda: tcd.UniformNoiseAdapter(
        tcd.DeepFactorized(batch_shape=(4,))),
    "noisy_rounded": lambda: tcd.NoisyRoundedDeepFactorized(
        batch_shape=(4,), init_scale=3.0),
    "noisy_soft_rounded": lambda: tcd.NoisySoftRoundedDeepFactorized(
        alpha=3.0, batch_shape=(4,)),
    "mixture": _mixture_of_deep_factorized,
}


class RateModel(keras.Model):
  """The brief's repro: a model holding a prior, rated by an entropy model
  made in ``call``."""

  def __init__(self, make_prior):
    super().__init__()
    self.prior = make_prior()

  def call(self, y, training=False):
    model = ContinuousBatchedEntropyModel(self.prior, coding_rank=1,
                                          compression=False)
    return model(y, training=training)[1]


def _rate_loss(y_true, y_pred):
  del y_true
  return tf.reduce_mean(y_pred)


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_keras_model_tracks_and_fit_trains_every_prior_variable(name):
  model = RateModel(PRIORS[name])
  model(tf.zeros((2, 4)))
  prior_variables = model.prior.trainable_weights
  assert prior_variables
  # The model sees every weight of the prior (before the fix: none).
  model_ids = {id(v) for v in model.trainable_variables}
  assert all(id(v) in model_ids for v in prior_variables)
  before = [v.numpy().copy() for v in prior_variables]
  model.compile(optimizer=keras.optimizers.Adam(0.05), loss=_rate_loss)
  data = np.random.default_rng(0).normal(0, 3, (48, 4)).astype(np.float32)
  history = model.fit(data, np.zeros(48, np.float32), batch_size=16,
                      epochs=1, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  moved = [not np.allclose(b, v.numpy()) for b, v in zip(before,
                                                         prior_variables)]
  assert all(moved), moved


def test_tf_module_holder_sees_and_trains_the_variables():
  prior = tcd.NoisyDeepFactorized(batch_shape=(4,))

  class Holder(tf.Module):

    def __init__(self):
      super().__init__()
      self.prior = prior

  holder = Holder()
  variables = holder.trainable_variables
  assert len(variables) == 8  # As a TFC prior (a TFP tf.Module) has.
  # They are the storage of the prior's Keras weights.
  storage = {id(v.value) for v in prior.trainable_weights}
  assert {id(v) for v in variables} == storage
  y = tf.random.stateless_normal((16, 4), seed=(3, 7))
  with tf.GradientTape() as tape:
    loss = -tf.reduce_sum(holder.prior.log_prob(y))
  grads = tape.gradient(loss, variables)
  assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
  # The distribution's own trainable_variables (as tf.Module's) match.
  assert len(prior.trainable_variables) == 8


def test_checkpoint_round_trip():
  model = RateModel(PRIORS["noisy_soft_rounded"])
  y = tf.random.stateless_normal((8, 4), seed=(4, 7))
  expected = model(y).numpy()
  saved = [v.numpy().copy() for v in model.prior.trainable_weights]
  with tempfile.TemporaryDirectory() as directory:
    path = tf.train.Checkpoint(model=model).save(
        os.path.join(directory, "ckpt"))
    names = [name for name, _ in tf.train.list_variables(path)]
    assert sum("prior" in n for n in names) == len(saved), names
    for v in model.prior.trainable_weights:
      v.assign(tf.zeros_like(v))
    assert not np.allclose(model(y).numpy(), expected)
    tf.train.Checkpoint(model=model).restore(path).assert_consumed()
  for v, value in zip(model.prior.trainable_weights, saved):
    np.testing.assert_array_equal(v.numpy(), value)
  np.testing.assert_allclose(model(y).numpy(), expected, rtol=1e-6)


def test_tf_variable_parameters_are_read_at_each_use_and_tracked():
  loc = tf.Variable([0.5, -1.0])
  prior = tcd.NoisyNormal(loc=loc, scale=[1.0, 2.0])
  before = prior.log_prob([0.0, 0.0]).numpy()
  loc.assign([3.0, 3.0])
  assert not np.allclose(prior.log_prob([0.0, 0.0]).numpy(), before)
  assert any(v is loc for v in prior.trainable_variables)

  class Holder(tf.Module):

    def __init__(self):
      super().__init__()
      self.prior = prior

  assert [v is loc for v in Holder().trainable_variables] == [True]
  with tempfile.TemporaryDirectory() as directory:
    path = tf.train.Checkpoint(prior=prior).save(
        os.path.join(directory, "ckpt"))
    loc.assign([0.0, 0.0])
    tf.train.Checkpoint(prior=prior).restore(path)
  np.testing.assert_array_equal(loc.numpy(), [3.0, 3.0])


def test_saved_model_of_a_module_holder():
  prior = tcd.NoisyDeepFactorized(batch_shape=(3,))

  class Holder(tf.Module):

    def __init__(self):
      super().__init__()
      self.prior = prior

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def log_prob(self, y):
      return self.prior.log_prob(y)

  holder = Holder()
  y = tf.random.stateless_normal((5, 3), seed=(5, 7))
  expected = holder.log_prob(y).numpy()
  with tempfile.TemporaryDirectory() as directory:
    tf.saved_model.save(holder, directory)
    loaded = tf.saved_model.load(directory)
    names = [name for name, _ in tf.train.list_variables(
        os.path.join(directory, "variables", "variables"))]
    for v in prior.trainable_weights:  # The loaded values are the saved.
      v.assign(tf.zeros_like(v))
    np.testing.assert_allclose(loaded.log_prob(y), expected, rtol=1e-6)
  assert sum("prior" in n for n in names) >= 8, names


@keras.saving.register_keras_serializable(package="tensorcoder_test")
class PriorModel(keras.Model):
  """A serializable model holding a NoisyDeepFactorized prior."""

  def __init__(self, channels=3, **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.prior = tcd.NoisyDeepFactorized(batch_shape=(channels,))

  def call(self, y):
    return self.prior.log_prob(y)

  def get_config(self):
    return dict(super().get_config(), channels=self.channels)


def test_keras_file_round_trip():
  model = PriorModel()
  y = tf.random.stateless_normal((5, 3), seed=(6, 7))
  model(y)
  for v in model.prior.trainable_weights:  # Away from the initial values.
    v.assign(v + 0.1)
  expected = model(y).numpy()
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "m.keras")
    model.save(path)
    clone = keras.models.load_model(path)
  for a, b in zip(clone.prior.trainable_weights, model.prior.trainable_weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  np.testing.assert_allclose(clone(y).numpy(), expected, rtol=1e-6)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
