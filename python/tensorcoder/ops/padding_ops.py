"""Padding for "same" convolutions, as in TFC's ``padding_ops``."""

from __future__ import annotations

from typing import Optional, Sequence

__all__ = ["same_padding_for_kernel"]


def same_padding_for_kernel(shape: Sequence[int], corr: bool,
                            strides_up: Optional[Sequence[int]] = None
                            ) -> list[tuple[int, int]]:
  """Padding (before, after) per dimension that makes a "valid" convolution
  or correlation of the padded input a "same" one.

  The kernel's centre is at ``size // 2``. For upsampled convolutions (the
  input is upsampled by ``strides_up`` before filtering) the padding is in
  input samples, rounded up; for downsampled ones pass ``strides_up=None``.

  Args:
    shape: spatial shape of the kernel.
    corr: cross-correlation (True) or convolution (False).
    strides_up: upsampling factors (default: all 1).

  Returns:
    A list of ``(before, after)`` pairs, one per dimension.
  """
  shape = [int(s) for s in shape]
  if strides_up is None:
    strides_up = [1] * len(shape)
  if len(strides_up) != len(shape):
    raise ValueError(f"strides_up {tuple(strides_up)} must have one entry per "
                     f"kernel dimension {tuple(shape)}")
  padding = []
  for size, stride in zip(shape, strides_up):
    before, after = (size // 2, (size - 1) // 2) if corr else (
        (size - 1) // 2, size // 2)
    # Upsampled: ceil(pad / stride) input samples cover pad output samples.
    padding.append((-(-before // stride), -(-after // stride)))
  return padding
