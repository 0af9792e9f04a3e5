"""Entropy model with an L1 penalty and a run-length code.

The penalty ``l1 * sum |x|`` is, up to constants, the code length of a value
under a Laplace density; the rounded tensor is coded with the run-length
code of ``run_length_encode`` (zero runs and magnitudes each in a Rice code
of the given parameter, or the Elias gamma code for a negative parameter),
which needs no probability tables. Arguments and methods follow TensorFlow
Compression's ``LaplaceEntropyModel``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tensorcoder import ops
from tensorcoder.entropy_models import power_law


@keras.saving.register_keras_serializable(package="tensorcoder")
class LaplaceEntropyModel(power_law.PowerLawEntropyModel):
  """Entropy model for Laplace-distributed random variables.

  Args:
    coding_rank: innermost dimensions coded into one string.
    l1: the L1 penalty's factor (positive).
    run_length_code: Rice parameter of zero-run lengths (>= 0), or -1 for
      the Elias gamma code.
    magnitude_code: Rice parameter of magnitudes, or -1 for Elias gamma.
    use_run_length_for_non_zeros: also run-length code non-zero runs.
    bottleneck_dtype: dtype of the bottleneck, the outputs and the penalty
      (default: the compute dtype of Keras' global dtype policy, as TFC).
  """

  def __init__(self, coding_rank: int, l1: float = 0.01,
               run_length_code: int = -1, magnitude_code: int = 0,
               use_run_length_for_non_zeros: bool = False,
               bottleneck_dtype=None):
    super().__init__(coding_rank, alpha=1.0, bottleneck_dtype=bottleneck_dtype)
    if not l1 > 0:
      raise ValueError(f"l1 must be positive, got {l1}")
    self._l1 = float(l1)
    self._run_length_code = int(run_length_code)
    self._magnitude_code = int(magnitude_code)
    self._use_run_length_for_non_zeros = bool(use_run_length_for_non_zeros)

  @property
  def l1(self) -> float:
    return self._l1

  @property
  def run_length_code(self) -> int:
    return self._run_length_code

  @property
  def magnitude_code(self) -> int:
    return self._magnitude_code

  @property
  def use_run_length_for_non_zeros(self) -> bool:
    return self._use_run_length_for_non_zeros

  def penalty(self, bottleneck) -> tf.Tensor:
    """``l1 * sum |x|`` over the coding dimensions."""
    bottleneck = tf.convert_to_tensor(bottleneck, self.bottleneck_dtype)
    self._check_rank(bottleneck)
    return self.l1 * tf.reduce_sum(
        abs(bottleneck), axis=tf.range(-self.coding_rank, 0))

  def _encode_fn(self, symbols: tf.Tensor) -> tf.Tensor:
    return ops.run_length_encode(
        symbols, run_length_code=self._run_length_code,
        magnitude_code=self._magnitude_code,
        use_run_length_for_non_zeros=self._use_run_length_for_non_zeros)

  def _decode_fn(self, string: tf.Tensor, shape: tf.Tensor) -> tf.Tensor:
    return ops.run_length_decode(
        string, shape, run_length_code=self._run_length_code,
        magnitude_code=self._magnitude_code,
        use_run_length_for_non_zeros=self._use_run_length_for_non_zeros)

  def get_config(self) -> dict:
    return {"coding_rank": self.coding_rank, "l1": self.l1,
            "run_length_code": self.run_length_code,
            "magnitude_code": self.magnitude_code,
            "use_run_length_for_non_zeros":
                self.use_run_length_for_non_zeros,
            "bottleneck_dtype": self.bottleneck_dtype.name}
