"""Upsampling convolutions computed as one ordinary convolution per phase.

A "same" transposed convolution with stride ``s`` (TensorFlow's
``conv2d_transpose`` with ``padding="SAME"``, what ``SignalConv2D``'s
upsampling layers compute) makes output sample ``s * m + a`` from the
input samples near ``m`` through the kernel taps ``t`` with
``t = s * d + a + before`` (``d = m - i`` for input sample ``i``, ``before``
the padding before of the convolution it is the gradient of). So each of
the ``s * s`` output phases ``(a, b)`` is an ordinary "valid" correlation
of the (zero-padded) input with a sub-kernel of the taps that phase uses,
and ``depth_to_space`` interleaves the phases. The multiplications are the
same ones (each kernel tap once per input sample); only the order of the
sums differs, so the values agree with ``conv2d_transpose`` up to float
rounding.

Why: on CPUs TensorFlow computes ordinary convolutions much more
efficiently than transposed ones. Measured on 2026-12-08 (2-core AMD EPYC
with AVX2 and no AVX-512, TensorFlow 2.21 with oneDNN, float32, batch 1,
5x5 kernels, stride 2): 128 to 128 channels from 128x192 took 0.182 s
instead of 0.261 s, from 64x96 0.034 s instead of 0.063 s, and 192 to 128
channels from 32x48 0.013 s instead of 0.020 s; with 3 output channels the
phases were slower (0.146 s against 0.032 s from 256x384), so
:func:`worthwhile` leaves narrow outputs to ``conv2d_transpose``.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

__all__ = ["conv2d_transpose_same", "worthwhile"]

# Output channels below which conv2d_transpose stays faster (measured: 3
# slower, 128 faster; see the module docstring).
MIN_FILTERS = 16


def _phase_taps(size: int, stride: int) -> list[tuple[int, list[int]]]:
  """Per output phase ``a`` of one dimension, the kernel taps it uses, in
  the order of the input samples a correlation visits them (from the
  furthest before ``m`` to the furthest after), and the input offset of
  the first: ``[(offset, [t, ...]), ...]``."""
  before = max(size - stride, 0) // 2
  phases = []
  for a in range(stride):
    # Taps t = stride * d + a + before in [0, size), d = m - i.
    ds = [d for d in range(-size, size + 1)
          if 0 <= stride * d + a + before < size]
    # The input samples i = m - d, visited from the largest d down.
    ds.sort(reverse=True)
    phases.append((-ds[0], [stride * d + a + before for d in ds]))
  return phases


def worthwhile(kernel_support: Sequence[int], strides: Sequence[int],
               filters: int) -> bool:
  """Whether :func:`conv2d_transpose_same` applies and is expected to be
  faster than ``conv2d_transpose``: upsampling in some dimension, every
  phase with a tap (the kernel at least as long as the stride), and at
  least ``MIN_FILTERS`` output channels."""
  return (max(strides) > 1 and filters >= MIN_FILTERS and
          all(k >= s for k, s in zip(kernel_support, strides)))


def conv2d_transpose_same(x: tf.Tensor, kernel: tf.Tensor,
                          strides: Sequence[int]) -> tf.Tensor:
  """``tf.nn.conv2d_transpose(x, kernel, [B, H * sh, W * sw, out],
  strides=(1, sh, sw, 1), padding="SAME")`` for ``x`` [B, H, W, in] and
  ``kernel`` [kh, kw, out, in], computed per phase (module docstring).

  Needs ``kh >= sh`` and ``kw >= sw``; the spatial kernel size and strides
  must be static."""
  kh, kw = (int(n) for n in kernel.shape[:2])
  sh, sw = (int(s) for s in strides)
  if kh < sh or kw < sw:
    raise ValueError(f"kernel {kh}x{kw} is shorter than strides {sh}x{sw}")
  rows, cols = _phase_taps(kh, sh), _phase_taps(kw, sw)
  # Input padding that lets every phase's window start inside it.
  top = max(max(-offset for offset, _ in rows), 0)
  bottom = max(max(offset + len(taps) - 1 for offset, taps in rows), 0)
  left = max(max(-offset for offset, _ in cols), 0)
  right = max(max(offset + len(taps) - 1 for offset, taps in cols), 0)
  padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
  height, width = tf.shape(x)[1], tf.shape(x)[2]
  # [kh, kw, out, in] -> [kh, kw, in, out], as conv2d takes it.
  kernel = tf.transpose(kernel, [0, 1, 3, 2])
  outputs = []
  for row_offset, row_taps in rows:
    for col_offset, col_taps in cols:
      sub = tf.gather(tf.gather(kernel, row_taps, axis=0), col_taps, axis=1)
      window = padded[:, top + row_offset:
                      top + row_offset + height + len(row_taps) - 1,
                      left + col_offset:
                      left + col_offset + width + len(col_taps) - 1]
      outputs.append(tf.nn.conv2d(window, sub, 1, "VALID"))
  if sh == sw:
    return tf.nn.depth_to_space(tf.concat(outputs, -1), sh)
  # Unequal strides: interleave rows and columns by reshaping.
  stacked = tf.stack(outputs, axis=3)  # [B, H, W, sh * sw, out]
  shape = tf.shape(stacked)
  stacked = tf.reshape(stacked, [shape[0], height, width, sh, sw, shape[4]])
  stacked = tf.transpose(stacked, [0, 1, 3, 2, 4, 5])
  return tf.reshape(stacked, [shape[0], height * sh, width * sw, shape[4]])
