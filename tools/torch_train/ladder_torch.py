"""The variable-rate hyperprior of ``tensorcoder.models`` in PyTorch, to
train it where TensorFlow is not available (the lent GPU machine has
PyTorch and no TensorFlow): the ladder models as shipped since
``ladder-v11``, with their level modulation, residual blocks and
checkerboard context, and the plainer ones before them.

The module holds the Keras model's variables themselves, in the order and
with the shapes of ``VariableRateHyperpriorCodec.weights`` (RDFT
coefficients of ``SignalConv2D(legacy=True)``, GDN's reparameterized beta
and gamma, DeepFactorized's matrices, biases and factors, the log gains),
and computes the same functions of them. So weights move between the two
as plain arrays: ``tools/torch_train/convert.py`` writes a Keras model's or
training backup's weights as ``.npz`` and turns an ``.npz`` back into a
model file with range-coding tables. ``equivalence_test.py`` checks, on
the CPU, that both compute the same transforms and likelihoods.

    python ladder_torch.py --data DIR --init start.npz --out trained.npz \\
        --steps 20000 --batch-size 16 --patch-size 256

Training is that of ``tensorcoder train``: uniform noise on y and z (with
``--quantization mixed`` the synthesis sees round(y - loc) + loc instead of
the noisy y, with a straight-through gradient), the
rate from the noisy priors (NoisyNormal at the hyper-synthesised location
and scale index, with a context those of the non-anchors refined from the
rounded anchors, straight through; NoisyDeepFactorized for z), loss
``bpp + λ_level * MSE``
(MSE on the 0..255 scale), patch ``i`` of step ``s`` at level
``(s * B + i) mod Q``, Adam. Images are read with Pillow; random crops and
flips.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import time
from typing import Optional, Sequence

import numpy as np
import start_weights  # beside this file
import torch
import torch.nn.functional as F

LMBDAS = (0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.0483)
# GDNParameter's pedestal (offset 2^-18, squared) and GDN's beta minimum.
PEDESTAL = 2.0**-36
BETA_MIN = 1e-6
NUM_SCALES, SCALE_MIN, SCALE_MAX = 64, 0.11, 256.0
# variable_rate.MODULATION_RATE and MODULATED_LAYERS, checkerboard.CONTEXT_RATE
# (this file cannot import them: no TensorFlow here; equivalence_test.py
# checks they agree).
MODULATION_RATE, MODULATED_LAYERS = 10.0, 3
CONTEXT_RATE = 10.0
MODULATIONS = ("analysis_log_scale", "analysis_shift", "synthesis_log_scale",
               "synthesis_shift")


def real_dft_basis(size: int) -> np.ndarray:
  """The orthonormal real DFT basis of ``layers.parameters`` (rows).

  Written again here because this file must run where TensorFlow is not
  (``tensorcoder.layers`` imports it); ``equivalence_test.py`` checks that
  both give the same basis."""
  n = np.arange(size)
  rows = [np.full(size, 1 / np.sqrt(size))]
  for j in range(1, (size + 1) // 2):
    angle = 2 * np.pi * j * n / size
    rows.append(np.sqrt(2 / size) * np.cos(angle))
    rows.append(np.sqrt(2 / size) * np.sin(angle))
  if size % 2 == 0:
    rows.append((-1.0)**n / np.sqrt(size))
  return np.stack(rows)


class _Bound(torch.autograd.Function):
  """``max(x, b)`` (``upper=False``) or ``min(x, b)``, whose gradient
  also passes where it moves x towards the bound's allowed side (TFC's
  ``lower_bound``/``upper_bound``)."""

  @staticmethod
  def forward(ctx, x, bound, upper):
    ctx.save_for_backward(x)
    ctx.bound, ctx.upper = bound, upper
    return x.clamp(max=bound) if upper else x.clamp(min=bound)

  @staticmethod
  def backward(ctx, grad):
    (x,) = ctx.saved_tensors
    if ctx.upper:
      passes = (x <= ctx.bound) | (grad > 0)
    else:
      passes = (x >= ctx.bound) | (grad < 0)
    return grad * passes, None, None


def lower_bound(x, bound):
  return _Bound.apply(x, float(bound), False)


def upper_bound(x, bound):
  return _Bound.apply(x, float(bound), True)


class Conv:
  """One ``SignalConv2D(legacy=True)``: kernel ``size``, ``mode`` "down"
  (correlation, stride 2), "up" (transposed convolution, stride 2) or
  "same" (stride 1; ``flip`` for a convolution rather than correlation),
  then GDN ("gdn"/"igdn"), "relu" or nothing."""

  def __init__(self, cin, cout, size, mode, activation=None, flip=False):
    self.cin, self.cout, self.size, self.mode = cin, cout, size, mode
    self.activation, self.flip = activation, flip or mode == "up"
    # Keras kernel layout: [k, k, in, out]; for "up", [k, k, out, in].
    self.kernel_shape = (size, size) + ((cout, cin) if mode == "up" else
                                        (cin, cout))

  def shapes(self) -> list:
    """(name, shape) of its variables, in the Keras model's order."""
    shapes = [("bias", (self.cout,))]
    if self.activation in ("gdn", "igdn"):
      shapes += [("reparam_beta", (self.cout,)),
                 ("reparam_gamma", (self.cout, self.cout))]
    shapes.append(("rdft", (self.size**2, self.cin * self.cout)))
    return shapes

  def __call__(self, x, params: dict, basis: torch.Tensor):
    flat = basis.t() @ params["rdft"]
    kernel = flat.reshape(self.kernel_shape)
    if self.flip:
      kernel = torch.flip(kernel, [0, 1])
    weight = kernel.permute(3, 2, 0, 1).contiguous()
    pad = (self.size - 1) // 2
    if self.mode == "up":
      h, w = x.shape[2:]
      y = F.conv_transpose2d(x, weight, stride=2, padding=(self.size - 2) // 2)
      y = y[:, :, :2 * h, :2 * w]
    else:
      y = F.conv2d(x, weight, stride=2 if self.mode == "down" else 1,
                   padding=pad)
    y = y + params["bias"][None, :, None, None]
    if self.activation == "relu":
      return F.relu(y)
    if self.activation in ("gdn", "igdn"):
      beta = lower_bound(params["reparam_beta"], math.sqrt(BETA_MIN + PEDESTAL))
      beta = beta**2 - PEDESTAL
      gamma = lower_bound(params["reparam_gamma"], math.sqrt(PEDESTAL))
      gamma = gamma**2 - PEDESTAL
      norm = F.conv2d(y * y, gamma.t()[:, :, None, None], bias=beta)
      return y * torch.sqrt(norm) if self.activation == "igdn" else (
          y * torch.rsqrt(norm))
    return y


def keras_conv(x, kernel, bias=None):
  """A Keras ``Conv2D`` of stride 1 and "same" padding (correlation) of x
  [B, C, H, W] with a Keras kernel [k, k, in, out] (k odd)."""
  return F.conv2d(x, kernel.permute(3, 2, 0, 1), bias,
                  padding=(kernel.shape[0] - 1) // 2)


class Residual:
  """One ``layers.ResidualBlock``: ``x + conv_b(relu(conv_a(x)))``, both
  3x3 Keras convolutions of ``channels``."""

  size = 3

  def __init__(self, channels):
    self.channels = channels

  def shapes(self) -> list:
    kernel = (3, 3, self.channels, self.channels)
    return [("conv_a/kernel", kernel), ("conv_a/bias", (self.channels,)),
            ("conv_b/kernel", kernel), ("conv_b/bias", (self.channels,))]

  def __call__(self, x, params: dict, basis=None):
    hidden = F.relu(keras_conv(x, params["conv_a/kernel"],
                               params["conv_a/bias"]))
    return x + keras_conv(hidden, params["conv_b/kernel"],
                          params["conv_b/bias"])


def architecture(filters=128, latents=192, hyper=128, analysis_blocks=0,
                 synthesis_blocks=0, hyper_blocks=0):
  """The layers of ``HyperpriorCodec``, by Keras sublayer, with its
  residual blocks where ``models.hyperprior`` puts them: before the
  analysis' last layer, after the synthesis' first, before the
  hyper-synthesis' last."""
  return dict(
      analysis=[Conv(3, filters, 5, "down", "gdn"),
                Conv(filters, filters, 5, "down", "gdn"),
                Conv(filters, filters, 5, "down", "gdn")] +
      [Residual(filters) for _ in range(analysis_blocks)] +
      [Conv(filters, latents, 5, "down")],
      synthesis=[Conv(latents, filters, 5, "up", "igdn")] +
      [Residual(filters) for _ in range(synthesis_blocks)] +
      [Conv(filters, filters, 5, "up", "igdn"),
       Conv(filters, filters, 5, "up", "igdn"),
       Conv(filters, 3, 5, "up")],
      hyper_analysis=[Conv(latents, hyper, 3, "same", "relu"),
                      Conv(hyper, hyper, 5, "down", "relu"),
                      Conv(hyper, hyper, 5, "down")],
      hyper_synthesis=[Conv(hyper, hyper, 5, "up", "relu"),
                       Conv(hyper, hyper, 5, "up", "relu")] +
      [Residual(hyper) for _ in range(hyper_blocks)] +
      [Conv(hyper, 2 * latents, 3, "same", flip=True)])


# What a model has besides its sizes and ladder (``Ladder``'s arguments and
# the .npz keys of convert.py; absent from a file: 0, the models before
# them).
SETTINGS = ("modulation", "analysis_blocks", "synthesis_blocks",
            "hyper_blocks", "context")


def anchor_mask(height: int, width: int, device=None) -> torch.Tensor:
  """1.0 at the checkerboard's anchors (row + column even), [1, 1, h, w]
  (``models.checkerboard.anchor_mask``)."""
  rows = torch.arange(height, device=device)[:, None]
  columns = torch.arange(width, device=device)[None, :]
  return ((rows + columns) % 2 == 0).float()[None, None]


class Ladder(torch.nn.Module):
  """``VariableRateHyperpriorCodec`` (mean-scale hyperprior, DeepFactorized
  prior of z with filters (3, 3), gains per level and latent channel).

  ``modulation``: the level modulation (``level_modulation``) of the main
  transforms' first hidden layers; ``*_blocks``: residual blocks;
  ``context``: the checkerboard context (``context="checkerboard"``).
  """

  def __init__(self, filters=128, latents=192, hyper=128,
               lmbdas: Sequence[float] = LMBDAS, modulation=False,
               analysis_blocks=0, synthesis_blocks=0, hyper_blocks=0,
               context=False):
    super().__init__()
    self.lmbdas = tuple(float(l) for l in lmbdas)
    self.filters, self.latents, self.hyper = filters, latents, hyper
    self.modulation, self.context = bool(modulation), bool(context)
    self.blocks = (int(analysis_blocks), int(synthesis_blocks),
                   int(hyper_blocks))
    self.layers = architecture(filters, latents, hyper, *self.blocks)
    self.names, tensors = [], []
    for name, shape in self.variable_shapes():
      self.names.append(name)
      tensors.append(torch.zeros(shape))
    self.values = torch.nn.ParameterList(
        [torch.nn.Parameter(t) for t in tensors])
    self.register_buffer("basis3", torch.tensor(
        np.kron(real_dft_basis(3), real_dft_basis(3)), dtype=torch.float32))
    self.register_buffer("basis5", torch.tensor(
        np.kron(real_dft_basis(5), real_dft_basis(5)), dtype=torch.float32))
    # ``train --quantization mixed``: the synthesis trains on rounded latents.
    self.mixed_quantization = False

  def settings(self) -> dict:
    """The values of ``SETTINGS`` (as convert.py stores them)."""
    return dict(zip(SETTINGS, (int(self.modulation),) + self.blocks +
                    (int(self.context),)))

  def variable_shapes(self) -> list:
    """(name, shape) of every variable, in ``model.weights`` order: the
    model's own (gains, modulation), then its sublayers' in the order the
    model makes them."""
    levels = len(self.lmbdas)
    shapes = [("log_gain", (levels, self.latents)),
              ("log_inverse_gain", (levels, self.latents))]
    if self.modulation:
      shapes += [(f"modulation/{name}", (levels, MODULATED_LAYERS,
                                         self.filters))
                 for name in MODULATIONS]
    for group in ("analysis", "synthesis", "hyper_analysis",
                  "hyper_synthesis"):
      for k, layer in enumerate(self.layers[group]):
        shapes += [(f"{group}/{k}/{n}", s) for n, s in layer.shapes()]
    if self.context:
      m = self.latents  # ContextRefinement's hidden channels: num_latents.
      shapes += [("context/anchor_conv/kernel", (3, 3, m, m)),
                 ("context/anchor_conv/bias", (m,)),
                 ("context/param_conv/kernel", (1, 1, 2 * m, m)),
                 ("context/output_conv/kernel", (1, 1, m, 2 * m)),
                 ("context/output_conv/bias", (2 * m,))]
    filters = (1, 3, 3, 1)
    for k in range(3):
      shapes += [(f"density/matrix_{k}", (self.hyper, filters[k + 1],
                                          filters[k])),
                 (f"density/bias_{k}", (self.hyper, filters[k + 1], 1))]
      if k < 2:
        shapes.append((f"density/factor_{k}", (self.hyper, filters[k + 1], 1)))
    return shapes

  def load_arrays(self, arrays: Sequence[np.ndarray]) -> None:
    if len(arrays) != len(self.values):
      raise ValueError(f"{len(arrays)} arrays for {len(self.values)} "
                       "variables")
    with torch.no_grad():
      for name, value, array in zip(self.names, self.values, arrays):
        if tuple(array.shape) != tuple(value.shape):
          raise ValueError(f"{name}: shape {array.shape}, expected "
                           f"{tuple(value.shape)}")
        value.copy_(torch.as_tensor(np.asarray(array, np.float32)))

  def arrays(self) -> list:
    return [v.detach().cpu().numpy() for v in self.values]

  def _params(self) -> dict:
    return dict(zip(self.names, self.values))

  def transform(self, group: str, x, modulation=None):
    """The transform ``group`` of x [B, C, H, W]; ``modulation`` (of a main
    transform, ``level_modulations``): its first hidden layers' outputs
    scaled and shifted, residual blocks not counted
    (``VariableRateHyperpriorCodec._modulated``)."""
    params = self._params()
    hidden = 0
    for k, layer in enumerate(self.layers[group]):
      own = {n: params[f"{group}/{k}/{n}"] for n, _ in layer.shapes()}
      x = layer(x, own, self.basis3 if layer.size == 3 else self.basis5)
      if isinstance(layer, Residual):
        continue
      if modulation is not None and hidden < len(modulation):
        scale, shift = modulation[hidden]
        x = x * scale.to(x.dtype) + shift.to(x.dtype)
      hidden += 1
    return x

  def level_modulations(self, levels):
    """``(analysis, synthesis)`` modulations of levels [B]: for each
    modulated layer ``(scale, shift)`` [B, F, 1, 1]; ``(None, None)``
    without modulation."""
    if not self.modulation:
      return None, None
    params = self._params()
    rows = [MODULATION_RATE * params[f"modulation/{name}"][levels]
            for name in MODULATIONS]  # [B, MODULATED_LAYERS, F] each

    def layers(log_scale, shift):
      return [(torch.exp(log_scale[:, i, :, None, None]),
               shift[:, i, :, None, None]) for i in range(MODULATED_LAYERS)]

    return layers(rows[0], rows[1]), layers(rows[2], rows[3])

  @torch.autocast("cuda", enabled=False)
  @torch.autocast("cpu", enabled=False)
  def context_parameters(self, y, loc, index):
    """The location and scale index y's rate is computed with in training:
    with a context, those of the non-anchors refined from the anchors of
    ``round(y - loc) + loc`` (straight through, as
    ``HyperpriorCodec._context_parameters``), in float32."""
    if not self.context:
      return loc, index
    params = self._params()
    y, loc, index = y.float(), loc.float(), index.float()
    shifted = y - loc
    y_hat = shifted + (torch.round(shifted) - shifted).detach() + loc
    mask = anchor_mask(y.shape[2], y.shape[3], y.device)
    hidden = F.relu(CONTEXT_RATE * (
        keras_conv(y_hat * mask, params["context/anchor_conv/kernel"],
                   params["context/anchor_conv/bias"]) +
        keras_conv(torch.cat([loc, index], dim=1),
                   params["context/param_conv/kernel"])))
    d_loc, d_index = torch.split(CONTEXT_RATE * keras_conv(
        hidden, params["context/output_conv/kernel"],
        params["context/output_conv/bias"]), self.latents, dim=1)
    others = 1.0 - mask
    return loc + d_loc * others, index + d_index * others

  def density_logits(self, x):
    """DeepFactorized's logit of the CDF of z [B, C, H, W]."""
    params = self._params()
    b, c, h, w = x.shape
    logits = x.permute(1, 0, 2, 3).reshape(c, 1, -1)
    for k in range(3):
      logits = F.softplus(params[f"density/matrix_{k}"]) @ logits + params[
          f"density/bias_{k}"]
      if k < 2:
        logits = logits + torch.tanh(params[f"density/factor_{k}"]) * (
            torch.tanh(logits))
    return logits.reshape(c, b, h, w).permute(1, 0, 2, 3)

  @torch.autocast("cuda", enabled=False)
  @torch.autocast("cpu", enabled=False)
  def z_log_prob(self, z):
    """log p(z) under NoisyDeepFactorized: the log-difference of the CDFs
    at z +- 1/2, through survival functions right of the median (float32
    also under autocast)."""
    z = z.float()
    upper, lower = self.density_logits(z + 0.5), self.density_logits(z - 0.5)
    log_cdf_plus, log_cdf_minus = -F.softplus(-upper), -F.softplus(-lower)
    log_sf_plus, log_sf_minus = -F.softplus(upper), -F.softplus(lower)
    right = log_sf_plus < log_cdf_plus
    big = torch.where(right, log_sf_minus, log_cdf_plus)
    small = torch.where(right, log_sf_plus, log_cdf_minus)
    return _log_diff_exp(big, small)

  @staticmethod
  @torch.autocast("cuda", enabled=False)
  @torch.autocast("cpu", enabled=False)
  def y_log_prob(centered, index):
    """log p(y - loc) under NoisyNormal(0, scale(index)): the difference of
    the normal CDFs at +-1/2 (upper tail by symmetry; float32 also under
    autocast)."""
    centered, index = centered.float(), index.float()
    index = upper_bound(lower_bound(index, 0.0), NUM_SCALES - 1.0)
    step = (math.log(SCALE_MAX) - math.log(SCALE_MIN)) / (NUM_SCALES - 1)
    scale = torch.exp(math.log(SCALE_MIN) + step * index)
    v = -torch.abs(centered)
    return _log_diff_exp(torch.special.log_ndtr((v + 0.5) / scale),
                         torch.special.log_ndtr((v - 0.5) / scale))

  def forward(self, images, levels, noise: Optional[tuple] = None):
    """Bits per example and reconstruction of images [B, 3, H, W] in 0..1
    at 0-based ``levels`` [B]; ``noise`` (u_z, u_y) replaces the uniform
    noise (for tests)."""
    gain = torch.exp(self.values[0])[levels][:, :, None, None]
    inverse = torch.exp(self.values[1])[levels][:, :, None, None]
    analysis, synthesis = self.level_modulations(levels)
    y = self.transform("analysis", images, analysis).float() * gain
    z = self.transform("hyper_analysis", y).float()
    u_z, u_y = noise if noise is not None else (
        torch.rand_like(z) - 0.5, torch.rand_like(y) - 0.5)
    z_tilde = z + u_z
    loc, index = self.context_parameters(y, *torch.split(
        self.transform("hyper_synthesis", z_tilde).float(), self.latents,
        dim=1))
    y_tilde = y + u_y
    log_prob = self.y_log_prob(y_tilde - loc, index).sum(dim=(1, 2, 3)) + (
        self.z_log_prob(z_tilde).sum(dim=(1, 2, 3)))
    bits = log_prob / -math.log(2.0)
    x_hat = self.transform("synthesis", self.synthesis_input(
        y, y_tilde, loc) * inverse, synthesis).float()
    return bits, x_hat

  def synthesis_input(self, y, y_tilde, loc):
    """What the synthesis sees of y in training: ``y_tilde``, or with
    ``mixed_quantization`` ``round(y - loc) + loc`` with a straight-through
    gradient (``HyperpriorCodec._synthesis_input``; none reaches loc)."""
    if not self.mixed_quantization:
      return y_tilde
    shifted = y - loc
    return shifted + (torch.round(shifted) - shifted).detach() + loc

  def loss(self, images, levels):
    bits, x_hat = self(images, levels)
    pixels = images.shape[2] * images.shape[3]
    bpp = bits / pixels
    mse = ((images - x_hat)**2).mean(dim=(1, 2, 3)) * 255.0**2
    lmbda = torch.tensor(self.lmbdas, device=images.device)[levels]
    return (bpp + lmbda * mse).mean(), bpp.mean(), mse.mean()


def _log_diff_exp(big, small):
  """log(exp(big) - exp(small)) for big >= small."""
  return big + torch.log(-torch.expm1(torch.clamp(small - big, max=-1e-30)))


def _images(data: str) -> list:
  files = []
  for pattern in ("**/*.jpg", "**/*.jpeg", "**/*.png"):
    files += glob.glob(os.path.join(data, pattern), recursive=True)
  if not files:
    raise SystemExit(f"{data}: no .jpg/.png images")
  return sorted(files)


def batches(files, patch, batch, seed, exclude=()):
  """Random crops and flips of the images (uint8, loaded once)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  pictures = [np.asarray(Image.open(f).convert("RGB")) for f in files
              if os.path.basename(f) not in exclude]
  pictures = [p for p in pictures if min(p.shape[:2]) >= patch]
  while True:
    out = np.empty((batch, patch, patch, 3), np.uint8)
    for i in range(batch):
      p = pictures[rng.integers(len(pictures))]
      top = rng.integers(p.shape[0] - patch + 1)
      left = rng.integers(p.shape[1] - patch + 1)
      crop = p[top:top + patch, left:left + patch]
      out[i] = crop[:, ::-1] if rng.integers(2) else crop
    yield out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data", required=True)
  parser.add_argument("--init", required=True,
                      help=".npz of convert.py export (the starting weights)")
  parser.add_argument("--out", required=True, help="the trained .npz")
  parser.add_argument("--steps", type=int, default=10000)
  parser.add_argument("--start-step", type=int, default=None,
                      help="global step of --init, for the levels and the "
                      "schedule (default: the step recorded in --init)")
  parser.add_argument("--batch-size", type=int, default=16)
  parser.add_argument("--patch-size", type=int, default=256)
  parser.add_argument("--learning-rate", type=float, default=1e-4)
  parser.add_argument("--decay-at", type=int, default=None,
                      help="global step where the rate drops to a tenth")
  parser.add_argument("--seconds", type=float, default=None,
                      help="stop (and save) after this much training time")
  parser.add_argument("--exclude", nargs="*", default=None,
                      help="image file names held aside (default: the "
                      "validation images named in --init)")
  parser.add_argument("--seed", type=int, default=1)
  parser.add_argument("--bf16", action="store_true",
                      help="transforms under torch.autocast(bfloat16)")
  parser.add_argument("--quantization", choices=("noise", "mixed"),
                      default="noise",
                      help="mixed: the synthesis trains on the rounded "
                      "latents, the rate on noise (tensorcoder train's flag)")
  args = parser.parse_args()

  device = "cuda" if torch.cuda.is_available() else "cpu"
  torch.manual_seed(args.seed)
  saved = np.load(args.init)
  meta = {k: saved[k] for k in ("filters", "latents", "hyper", "lmbdas")}
  meta.update({k: np.int64(saved[k]) if k in saved else np.int64(0)
               for k in SETTINGS})
  model = Ladder(int(meta["filters"]), int(meta["latents"]),
                 int(meta["hyper"]), tuple(meta["lmbdas"]),
                 **{k: int(meta[k]) for k in SETTINGS})
  # Inline arrays, or references into a shipped .keras file
  # (start_weights.py) under the repository root, two folders up.
  model.load_arrays(start_weights.arrays(saved, os.path.join(
      os.path.dirname(os.path.abspath(__file__)), "..", "..")))
  model.mixed_quantization = args.quantization == "mixed"
  model.to(device)
  optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
  exclude = set(args.exclude if args.exclude is not None else
                saved["exclude"] if "exclude" in saved else ())
  stream = batches(_images(args.data), args.patch_size, args.batch_size,
                   args.seed, exclude)
  print(f"{device}; {model.settings()}; leaving out {len(exclude)} "
        "validation images", flush=True)
  levels_count = len(model.lmbdas)
  first = args.start_step if args.start_step is not None else int(
      saved["step"]) if "step" in saved else 0
  start = time.time()
  step = first - 1
  for step in range(first, first + args.steps):
    if args.decay_at is not None and step == args.decay_at:
      for group in optimizer.param_groups:
        group["lr"] = args.learning_rate / 10
    images = torch.as_tensor(next(stream), device=device).permute(
        0, 3, 1, 2).float() / 255.0
    levels = (step * args.batch_size + torch.arange(
        args.batch_size, device=device)) % levels_count
    with torch.autocast(device, dtype=torch.bfloat16, enabled=args.bf16):
      loss, bpp, mse = model.loss(images, levels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    loss, bpp, mse = loss.detach(), bpp.detach(), mse.detach()
    if not torch.isfinite(loss):
      raise SystemExit(f"loss {float(loss)} at step {step}")
    if step % 500 == 0:
      psnr = 10 * math.log10(255.0**2 / max(float(mse), 1e-10))
      print(f"step {step} loss {float(loss):.4f} bpp {float(bpp):.4f} "
            f"psnr {psnr:.2f} {time.time() - start:.0f}s", flush=True)
    if args.seconds is not None and time.time() - start > args.seconds:
      break
  out = dict(meta, step=np.int64(step + 1))
  out.update({f"w{i:03d}": a for i, a in enumerate(model.arrays())})
  np.savez(args.out, **out)
  print(f"saved {args.out} at step {step + 1}", flush=True)


if __name__ == "__main__":
  main()
