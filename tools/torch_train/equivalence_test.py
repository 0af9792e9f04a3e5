"""``ladder_torch.Ladder`` computes what ``VariableRateHyperpriorCodec``
computes, on the same weights (CPU, float32).

    PYTHONPATH=<tensorcoder tree>:<torch site> python -m pytest \\
        tools/torch_train/equivalence_test.py

Needs TensorFlow (the project's environment) and PyTorch in one process.
"""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

torch = pytest.importorskip("torch")

import convert  # pylint: disable=g-import-not-at-top
import ladder_torch  # pylint: disable=g-import-not-at-top
from tensorcoder import distributions  # pylint: disable=g-import-not-at-top

SETTINGS = dict(filters=8, latents=6, hyper=5, lmbdas=(0.002, 0.01, 0.05))
# The architecture of the shipped models since ladder-v11 (level
# modulation, residual blocks, a checkerboard context), with a block in the
# analysis too.
MODERN = dict(modulation=1, analysis_blocks=1, synthesis_blocks=2,
              hyper_blocks=1, context=1)


def _pair(settings):
  keras.utils.set_random_seed(3)
  model = convert._model(*(SETTINGS[k] for k in convert.META), **settings)  # pylint: disable=protected-access
  rng = np.random.default_rng(0)
  # Gains away from their initial values, and a density, residual blocks,
  # modulation and context that are not at their initialization (zeros:
  # the identity), so that every variable matters.
  for variable in model.trainable_weights:
    variable.assign(variable.numpy() + rng.normal(
        0, 0.05, variable.shape).astype(np.float32))
  twin = ladder_torch.Ladder(*(SETTINGS[k] for k in convert.META),
                             **settings)
  twin.load_arrays([w.numpy() for w in model.trainable_weights])
  return model, twin


@pytest.fixture(scope="module")
def pair():
  return _pair({})


@pytest.fixture(scope="module")
def modern():
  return _pair(MODERN)


@pytest.fixture(scope="module", params=["plain", "modern"])
def both(request, pair, modern):
  return pair if request.param == "plain" else modern


def _nchw(x):
  return torch.as_tensor(np.transpose(np.asarray(x), (0, 3, 1, 2)).copy())


def _nhwc(t):
  return np.transpose(t.detach().numpy(), (0, 2, 3, 1))


def test_the_rdft_basis_is_tensorcoders():
  from tensorcoder.layers import parameters  # pylint: disable=g-import-not-at-top
  for size in range(1, 8):
    np.testing.assert_array_equal(ladder_torch.real_dft_basis(size),
                                  parameters.real_dft_basis(size))


def test_constants_are_tensorcoders():
  from tensorcoder.models import checkerboard  # pylint: disable=g-import-not-at-top
  from tensorcoder.models import variable_rate  # pylint: disable=g-import-not-at-top
  assert ladder_torch.MODULATION_RATE == variable_rate.MODULATION_RATE
  assert ladder_torch.MODULATED_LAYERS == variable_rate.MODULATED_LAYERS
  assert ladder_torch.CONTEXT_RATE == checkerboard.CONTEXT_RATE
  assert ladder_torch.SETTINGS == convert.SETTINGS
  mask = checkerboard.anchor_mask(tf.zeros([1, 5, 4, 1])).numpy()
  np.testing.assert_array_equal(ladder_torch.anchor_mask(5, 4).numpy(),
                                np.transpose(mask, (0, 3, 1, 2)))


def test_variables_line_up(both):
  model, twin = both
  assert len(twin.names) == len(model.trainable_weights)
  for name, variable, shape in zip(twin.names, model.trainable_weights,
                                   twin.variable_shapes()):
    # The same variable: the same last name part(s) and shape.
    parts = 2 if "/conv_" in name else 1
    assert (variable.path.split("/")[-parts:] ==
            name.split("/")[-parts:]), (name, variable.path)
    assert tuple(variable.shape) == shape[1], (name, variable.path)


@pytest.mark.parametrize("group,shape", [
    ("analysis", (2, 64, 64, 3)), ("synthesis", (2, 4, 4, 6)),
    ("hyper_analysis", (2, 4, 4, 6)), ("hyper_synthesis", (2, 1, 1, 5)),
    ("hyper_synthesis", (1, 3, 2, 5))])
def test_transforms(both, group, shape):
  model, twin = both
  x = np.random.default_rng(1).uniform(0, 1, shape).astype(np.float32)
  expected = getattr(model, group)(tf.constant(x)).numpy()
  got = _nhwc(twin.transform(group, _nchw(x)))
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_likelihoods(pair):
  model, twin = pair
  rng = np.random.default_rng(2)
  z = rng.normal(0, 4, (2, 3, 3, 5)).astype(np.float32)
  prior = distributions.NoisyDeepFactorized(base=model.hyperprior_density)
  expected = prior.log_prob(tf.constant(z)).numpy()
  got = _nhwc(twin.z_log_prob(_nchw(z)))
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
  centered = rng.normal(0, 10, (2, 3, 3, 6)).astype(np.float32)
  index = rng.uniform(-3, 66, centered.shape).astype(np.float32)
  scale = model.scale_fn(tf.clip_by_value(index, 0, 63))
  expected = distributions.NoisyNormal(0.0, scale).log_prob(centered).numpy()
  got = _nhwc(twin.y_log_prob(_nchw(centered), _nchw(index)))
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_modulated_transforms(modern):
  # Each example at its own level: the transforms scaled and shifted.
  model, twin = modern
  levels = np.array([2, 0])
  analysis, synthesis = model._level_modulations(tf.constant(levels))  # pylint: disable=protected-access
  mods = twin.level_modulations(torch.as_tensor(levels))
  rng = np.random.default_rng(7)
  x = rng.uniform(0, 1, (2, 64, 64, 3)).astype(np.float32)
  y = rng.normal(0, 1, (2, 4, 4, 6)).astype(np.float32)
  for group, inputs, keras_mod, torch_mod in (
      ("analysis", x, analysis, mods[0]), ("synthesis", y, synthesis, mods[1])):
    expected = model._modulated(getattr(model, group), tf.constant(inputs),  # pylint: disable=protected-access
                                keras_mod).numpy()
    got = _nhwc(twin.transform(group, _nchw(inputs), torch_mod))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    plain = _nhwc(twin.transform(group, _nchw(inputs)))
    assert np.abs(plain - expected).max() > 1e-3  # The modulation matters.


def test_context_parameters(modern):
  # The non-anchors' location and scale index refined from the rounded
  # anchors; the anchors' unchanged.
  model, twin = modern
  rng = np.random.default_rng(8)
  y = rng.normal(0, 3, (2, 4, 6, 6)).astype(np.float32)
  loc = rng.normal(0, 1, y.shape).astype(np.float32)
  index = rng.uniform(0, 63, y.shape).astype(np.float32)
  expected = model._context_parameters(  # pylint: disable=protected-access
      tf.constant(y), tf.constant(loc), tf.constant(index))
  got = twin.context_parameters(_nchw(y), _nchw(loc), _nchw(index))
  anchors = ladder_torch.anchor_mask(4, 6).numpy()[0, 0] == 1
  for e, g, before in zip(expected, got, (loc, index)):
    np.testing.assert_allclose(_nhwc(g), e.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(_nhwc(g)[:, anchors], before[:, anchors])
    assert np.abs(_nhwc(g) - before)[:, ~anchors].min() > 0


def _keras_bits(model, y_tilde, loc, index, z_tilde) -> np.ndarray:
  """Bits per example of the noisy latents under the Keras model's priors:
  NoisyNormal at ``loc`` and the scale of ``index``, NoisyDeepFactorized."""
  scale = model.scale_fn(tf.clip_by_value(index, 0, 63))
  log_prob = tf.reduce_sum(distributions.NoisyNormal(0.0, scale).log_prob(
      y_tilde - loc), [1, 2, 3]) + tf.reduce_sum(
          distributions.NoisyDeepFactorized(
              base=model.hyperprior_density).log_prob(z_tilde), [1, 2, 3])
  return log_prob.numpy() / -np.log(2)


def test_training_forward(pair):
  # The rate and reconstruction of training, with the same noise.
  model, twin = pair
  rng = np.random.default_rng(4)
  x = rng.uniform(0, 1, (3, 64, 64, 3)).astype(np.float32)
  levels = np.array([0, 2, 1])
  gain, inverse = model._level_gains(tf.constant(levels))  # pylint: disable=protected-access
  y = model.analysis(tf.constant(x)) * gain
  z = model.hyper_analysis(y)
  u_z = rng.uniform(-.5, .5, z.shape).astype(np.float32)
  u_y = rng.uniform(-.5, .5, y.shape).astype(np.float32)
  z_tilde = z + u_z
  loc, index = model._hyper(z_tilde)  # pylint: disable=protected-access
  y_tilde = y + u_y
  expected_bits = _keras_bits(model, y_tilde, loc, index, z_tilde)
  expected_x = model.synthesis(y_tilde * inverse).numpy()
  bits, x_hat = twin(_nchw(x), torch.as_tensor(levels),
                     noise=(_nchw(u_z), _nchw(u_y)))
  np.testing.assert_allclose(bits.detach().numpy(), expected_bits, rtol=1e-4)
  np.testing.assert_allclose(_nhwc(x_hat), expected_x, rtol=1e-4, atol=1e-5)


def test_mixed_quantization_forward(pair):
  # train --quantization mixed: the synthesis sees round(y - loc) + loc, the
  # rate keeps the noise; gradients pass the rounding straight through.
  model, twin = pair
  rng = np.random.default_rng(5)
  x = rng.uniform(0, 1, (2, 64, 64, 3)).astype(np.float32)
  levels = np.array([1, 2])
  gain, inverse = model._level_gains(tf.constant(levels))  # pylint: disable=protected-access
  y = model.analysis(tf.constant(x)) * gain
  z = model.hyper_analysis(y)
  u_z = rng.uniform(-.5, .5, z.shape).astype(np.float32)
  u_y = rng.uniform(-.5, .5, y.shape).astype(np.float32)
  loc, _ = model._hyper(z + u_z)  # pylint: disable=protected-access
  model.mixed_quantization = True
  try:
    rounded = model._synthesis_input(y, y + u_y, loc, training=True)  # pylint: disable=protected-access
  finally:
    model.mixed_quantization = False
  expected_x = model.synthesis(rounded * inverse).numpy()
  twin.mixed_quantization = True
  try:
    bits, x_hat = twin(_nchw(x), torch.as_tensor(levels),
                       noise=(_nchw(u_z), _nchw(u_y)))
    twin.mixed_quantization = False
    noisy_bits, noisy_x = twin(_nchw(x), torch.as_tensor(levels),
                               noise=(_nchw(u_z), _nchw(u_y)))
  finally:
    twin.mixed_quantization = False
  np.testing.assert_allclose(_nhwc(x_hat), expected_x, rtol=1e-4, atol=1e-5)
  # The rate is the noisy one; the reconstruction is not the noisy one.
  np.testing.assert_array_equal(bits.detach().numpy(),
                                noisy_bits.detach().numpy())
  assert np.abs(_nhwc(x_hat) - _nhwc(noisy_x)).max() > 1e-3
  # Straight through: d(round(s) + loc)/dy = 1, d/dloc = 0.
  y_t = torch.tensor([[0.2, 1.7, -0.6]], requires_grad=True)
  loc_t = torch.tensor([[0.1, -0.3, 0.4]], requires_grad=True)
  twin.mixed_quantization = True
  try:
    out = twin.synthesis_input(y_t, None, loc_t)
  finally:
    twin.mixed_quantization = False
  np.testing.assert_allclose(out.detach().numpy(), [[0.1, 1.7, -0.6]],
                             atol=1e-6)
  out.sum().backward()
  np.testing.assert_array_equal(y_t.grad.numpy(), [[1.0, 1.0, 1.0]])
  np.testing.assert_array_equal(loc_t.grad.numpy(), [[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("mixed", [False, True])
def test_modern_training_forward(modern, mixed):
  # The whole training forward of a model with modulation, residual blocks
  # and a context, with the same noise: the context refines the rate's
  # parameters, and with mixed quantization the synthesis sees y rounded
  # around the refined location.
  model, twin = modern
  rng = np.random.default_rng(9)
  x = rng.uniform(0, 1, (3, 64, 64, 3)).astype(np.float32)
  levels = np.array([0, 2, 1])
  gain, inverse = model._level_gains(tf.constant(levels))  # pylint: disable=protected-access
  analysis, synthesis = model._level_modulations(tf.constant(levels))  # pylint: disable=protected-access
  y = model._modulated(model.analysis, tf.constant(x), analysis) * gain  # pylint: disable=protected-access
  z = model.hyper_analysis(y)
  u_z = rng.uniform(-.5, .5, z.shape).astype(np.float32)
  u_y = rng.uniform(-.5, .5, y.shape).astype(np.float32)
  z_tilde = z + u_z
  loc, index = model._context_parameters(y, *model._hyper(z_tilde))  # pylint: disable=protected-access
  y_tilde = y + u_y
  expected_bits = _keras_bits(model, y_tilde, loc, index, z_tilde)
  model.mixed_quantization = mixed
  try:
    shown = model._synthesis_input(y, y_tilde, loc, training=True)  # pylint: disable=protected-access
  finally:
    model.mixed_quantization = False
  expected_x = model._modulated(model.synthesis, shown * inverse,  # pylint: disable=protected-access
                                synthesis).numpy()
  twin.mixed_quantization = mixed
  try:
    bits, x_hat = twin(_nchw(x), torch.as_tensor(levels),
                       noise=(_nchw(u_z), _nchw(u_y)))
  finally:
    twin.mixed_quantization = False
  np.testing.assert_allclose(bits.detach().numpy(), expected_bits, rtol=1e-4)
  np.testing.assert_allclose(_nhwc(x_hat), expected_x, rtol=1e-4, atol=1e-5)


def test_gradients_reach_every_variable(both):
  _, twin = both
  x = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
  loss, _, _ = twin.loss(x, torch.tensor([0, 1, 2, 0]))
  twin.zero_grad()
  loss.backward()
  for name, value in zip(twin.names, twin.values):
    assert value.grad is not None and torch.isfinite(value.grad).all(), name
    assert value.grad.abs().sum() > 0, name


def test_npz_round_trip(both, tmp_path):
  # export of a model file -> .npz -> import: the same weights and
  # architecture, and a model that codes as the source does.
  model, _ = both
  model.make_coders()
  source = str(tmp_path / "source.keras")
  model.save(source)
  convert.export(source, str(tmp_path / "w.npz"))
  back = convert.to_model(str(tmp_path / "w.npz"))
  assert convert.settings(back) == convert.settings(model)
  assert len(back.trainable_weights) == len(model.trainable_weights)
  for a, b in zip(model.trainable_weights, back.trainable_weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  image = np.random.default_rng(5).integers(0, 256, (40, 56, 3), np.uint8)
  assert back.compress(image, quality=2)[0] == model.compress(
      image, quality=2)[0]


def test_training_command_round_trip(both, tmp_path):
  # convert.py export -> ladder_torch.py (3 steps) -> convert.py import: a
  # model whose weights changed, that codes, with the step and the
  # architecture carried along.
  from PIL import Image  # pylint: disable=g-import-not-at-top
  model, _ = both
  model.make_coders()
  model.save(str(tmp_path / "start.keras"))
  convert.export(str(tmp_path / "start.keras"), str(tmp_path / "start.npz"))
  pictures = tmp_path / "pictures"
  pictures.mkdir()
  rng = np.random.default_rng(6)
  for i in range(2):
    Image.fromarray(rng.integers(0, 256, (80, 96, 3), np.uint8)).save(
        pictures / f"{i}.png")
  script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "ladder_torch.py")
  result = subprocess.run(
      [sys.executable, script, "--data", str(pictures), "--init",
       str(tmp_path / "start.npz"), "--out", str(tmp_path / "out.npz"),
       "--steps", "3", "--batch-size", "2", "--patch-size", "64",
       "--learning-rate", "1e-2"], capture_output=True, text=True,
      check=False)
  assert result.returncode == 0, result.stderr
  assert "saved" in result.stdout and "at step 3" in result.stdout
  assert int(np.load(tmp_path / "out.npz")["step"]) == 3
  trained = convert.to_model(str(tmp_path / "out.npz"))
  assert convert.settings(trained) == convert.settings(model)
  changed = sum(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(
      model.trainable_weights, trained.trainable_weights))
  assert changed > len(model.trainable_weights) // 2
  image = rng.integers(0, 256, (40, 56, 3), np.uint8)
  strings, z_shape = trained.compress(image, quality=3)
  assert trained.decompress(strings, image.shape, z_shape,
                            quality=3).shape == image.shape
