"""Layer attributes that are fixed once the layer is built, as in TFC.

TFC's ``GDN`` and ``SignalConv*`` raise ``RuntimeError`` when a
configuration attribute (``inverse``, ``strides_down``, ...) is assigned
after the layer has been built, since the variables already made would no
longer match. Keras 3 skips assignments of an attribute's current value
without calling the property setter, so the check is made in
``__setattr__`` as well.
"""

from __future__ import annotations

from typing import Any


class FixedOnceBuilt:
  """Mixin for Keras layers: the attributes named in ``FIXED_ONCE_BUILT``
  (a class attribute) raise ``RuntimeError`` when set after ``build``."""

  FIXED_ONCE_BUILT: frozenset = frozenset()

  def __setattr__(self, name: str, value: Any) -> None:
    if name in self.FIXED_ONCE_BUILT:
      self._check_not_built()
    super().__setattr__(name, value)

  def _check_not_built(self) -> None:
    if getattr(self, "built", False):
      raise RuntimeError(
          "Can't modify layer attributes after it has been built.")
