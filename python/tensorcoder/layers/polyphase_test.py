"""Tests of polyphase.conv2d_transpose_same against conv2d_transpose, and of
the legacy SignalConv2D upsampling that uses it."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.layers import polyphase  # pylint: disable=g-import-not-at-top
from tensorcoder.layers import signal_conv  # pylint: disable=g-import-not-at-top


def _transposed(x, kernel, strides):
  shape = tf.shape(x)
  filters = kernel.shape[2]
  return tf.nn.conv2d_transpose(
      x, kernel,
      tf.stack([shape[0], shape[1] * strides[0], shape[2] * strides[1],
                filters]),
      strides=(1, *strides, 1), padding="SAME")


@pytest.mark.parametrize("support,strides", [
    ((5, 5), (2, 2)), ((3, 3), (2, 2)), ((4, 4), (2, 2)), ((2, 2), (2, 2)),
    ((9, 9), (4, 4)), ((5, 3), (3, 2)), ((1, 5), (1, 2)), ((6, 7), (3, 3)),
])
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (8, 7)])
def test_matches_conv2d_transpose(support, strides, size):
  rng = np.random.default_rng(sum(support) * 100 + sum(strides) * 10 +
                              sum(size))
  x = tf.constant(rng.normal(size=(2, *size, 6)), tf.float32)
  kernel = tf.constant(rng.normal(size=(*support, 5, 6)), tf.float32)
  expected = _transposed(x, kernel, strides).numpy()
  got = polyphase.conv2d_transpose_same(x, kernel, strides).numpy()
  assert got.shape == expected.shape
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_in_a_graph_for_any_size():
  rng = np.random.default_rng(5)
  kernel = tf.constant(rng.normal(size=(5, 5, 4, 3)), tf.float32)
  graph = tf.function(
      lambda x: polyphase.conv2d_transpose_same(x, kernel, (2, 2)),
      input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
  for size in ((4, 6), (7, 3)):
    x = tf.constant(rng.normal(size=(1, *size, 3)), tf.float32)
    np.testing.assert_allclose(graph(x).numpy(),
                               _transposed(x, kernel, (2, 2)).numpy(),
                               rtol=1e-5, atol=1e-5)


def test_gradients_match():
  rng = np.random.default_rng(6)
  x = tf.constant(rng.normal(size=(1, 6, 5, 4)), tf.float32)
  kernel = tf.constant(rng.normal(size=(5, 5, 3, 4)), tf.float32)
  weights = tf.constant(rng.normal(size=(1, 12, 10, 3)), tf.float32)
  gradients = []
  for function in (polyphase.conv2d_transpose_same, _transposed):
    with tf.GradientTape() as tape:
      tape.watch([x, kernel])
      loss = tf.reduce_sum(function(x, kernel, (2, 2)) * weights)
    gradients.append(tape.gradient(loss, [x, kernel]))
  for got, expected in zip(*gradients):
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4,
                               atol=1e-4)


def test_short_kernels_are_refused():
  assert not polyphase.worthwhile((3, 3), (4, 4), 128)
  with pytest.raises(ValueError, match="shorter than strides"):
    polyphase.conv2d_transpose_same(tf.zeros([1, 2, 2, 1]),
                                    tf.zeros([3, 3, 1, 1]), (4, 4))


def test_worthwhile():
  assert polyphase.worthwhile((5, 5), (2, 2), 128)
  assert not polyphase.worthwhile((5, 5), (2, 2), 3)  # Narrow outputs.
  assert not polyphase.worthwhile((5, 5), (1, 1), 128)  # No upsampling.


@pytest.mark.parametrize("dtype,by_phases,training", [
    ("float32", True, None), ("float32", True, False),
    ("float32", False, None), ("float32", True, True),
    ("mixed_bfloat16", True, None)])
def test_legacy_upsampling_layer(dtype, by_phases, training, monkeypatch):
  """With upsample_by_phases, a float32 layer's output out of training is
  conv2d_transpose's (plus bias) without calling it; otherwise, in
  training and in bfloat16, it calls conv2d_transpose."""
  keras.utils.set_random_seed(20261208)
  layer = signal_conv.SignalConv2D(
      32, (5, 5), strides_up=2, padding="same_zeros", corr=False,
      use_bias=True, legacy=True, dtype=dtype)
  assert not layer.upsample_by_phases  # Off unless asked for.
  layer.upsample_by_phases = by_phases
  x = tf.constant(np.random.default_rng(7).normal(size=(1, 6, 9, 8)),
                  tf.float32)
  layer(x)
  calls = []
  original = tf.nn.conv2d_transpose
  monkeypatch.setattr(tf.nn, "conv2d_transpose",
                      lambda *a, **k: calls.append(1) or original(*a, **k))
  got = layer(x, training=training).numpy()
  assert bool(calls) == (dtype != "float32" or not by_phases or
                         bool(training))
  if dtype == "float32":
    kernel = layer._legacy_kernel()  # pylint: disable=protected-access
    expected = (_transposed(x, kernel, (2, 2)) + layer.bias).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
