"""The distribution base class and the distributions that need no adapter.

:class:`Distribution` gives every tensorcoder distribution the interface of
``tfp.distributions.Distribution`` that TensorFlow Compression code calls:
``sample(sample_shape=(), seed=None)``, ``prob``/``log_prob``,
``cdf``/``log_cdf``, ``survival_function``/``log_survival_function``,
``quantile``, ``mode``, ``mean``, ``stddev``, ``variance``, ``batch_shape``/
``batch_shape_tensor()``, ``event_shape``/``event_shape_tensor()``,
``dtype``, ``parameters`` and ``name``. As in TFP, a method that a
distribution cannot provide raises ``NotImplementedError``; ``prob`` falls
back on ``exp(log_prob)``, ``cdf`` on ``exp(log_cdf)``, the survival
function on ``1 - cdf`` (and vice versa for the logs). Inputs are converted
to the distribution's dtype: Python numbers and NumPy values directly,
tensors of another (float or integer) dtype by a cast, so priors computed in
float32 accept the float16 bottlenecks of a ``mixed_float16`` model.

Each distribution is a Keras 3 layer *and* a ``tf.Module``, so whatever
holds one tracks its variables:

* a Keras model or layer sees the weights of the Keras layers a
  distribution is made of (``DeepFactorized``'s networks) and of Keras
  variables passed as parameters, trains them (``fit``) and saves them
  (``.keras`` files, ``save_weights``);
* a ``tf.Module`` holder sees them in ``trainable_variables``, and
  ``tf.train.Checkpoint`` and ``tf.saved_model.save`` store them;
* ``tf.Variable`` parameters (as TFP takes them) are read at each use and
  are seen by ``tf.Module`` holders, checkpoints and the distribution's own
  ``trainable_variables``; Keras 3 models do not collect plain
  ``tf.Variable`` objects, so a Keras model should own such a parameter as a
  Keras weight (``self.add_weight``) and pass that.

No module here imports TensorFlow Probability; TFP distributions work
wherever a base distribution is expected.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_ndtr(x: tf.Tensor) -> tf.Tensor:
  """log Phi(x), accurate for all x (asymptotic series below -20)."""
  dtype = x.dtype
  threshold = -20.0 if dtype == tf.float64 else -10.0
  # Each branch sees only inputs where it is finite, so that tf.where's
  # gradient of the unused branches is 0, not NaN.
  xu = tf.maximum(x, 3.0)
  upper = tf.math.log1p(-0.5 * tf.math.erfc(xu / math.sqrt(2)))
  xm = tf.clip_by_value(x, threshold, 3.0)
  middle = tf.math.log(0.5 * tf.math.erfc(-xm / math.sqrt(2)))
  t = tf.minimum(x, threshold)
  r = 1 / (t * t)
  series = 1 - r * (1 - r * (3 - r * (15 - r * 105)))
  tail = -0.5 * t * t - tf.math.log(-t) - _LOG_SQRT_2PI + tf.math.log(series)
  return tf.where(x > 3.0, upper, tf.where(x > threshold, middle, tail))


# -- dtypes, parameters and inputs --------------------------------------------


def _is_variable(value) -> bool:
  return isinstance(value, (tf.Variable, keras.Variable))


def common_dtype(values: Sequence[Any], dtype=None,
                 default: tf.DType = tf.float32) -> tf.DType:
  """The float dtype of a distribution with parameters ``values``.

  ``dtype`` if given; else the float dtype of the parameters that have one
  (tensors, variables, NumPy arrays), which must agree; else ``default``
  (Python numbers and integer values take the float dtype, as in TFP).
  """
  if dtype is not None:
    return tf.as_dtype(dtype)
  found = None
  for value in values:
    value_dtype = getattr(value, "dtype", None)
    if value_dtype is None:
      continue
    try:
      value_dtype = tf.as_dtype(value_dtype)
    except TypeError:
      continue
    if not value_dtype.is_floating:
      continue
    if found is not None and value_dtype != found:
      raise TypeError(f"parameters of different float dtypes ({found.name} "
                      f"and {value_dtype.name}); cast them to one, or pass "
                      "dtype=")
    found = value_dtype
  return found or tf.as_dtype(default)


def as_parameter(value, dtype: tf.DType):
  """A parameter as stored: variables as they are (read at each use, so a
  distribution built once follows training), anything else as a tensor of
  ``dtype``."""
  if _is_variable(value):
    return value
  return to_dtype(value, dtype)


def to_dtype(value, dtype: tf.DType) -> tf.Tensor:
  """``value`` as a tensor of ``dtype``: Python and NumPy values converted
  directly, tensors and variables of another dtype cast."""
  if tf.is_tensor(value) or _is_variable(value):
    value = tf.convert_to_tensor(value)
  else:
    value = tf.convert_to_tensor(value, dtype_hint=dtype)
  if value.dtype != dtype:
    value = tf.cast(value, dtype)
  return value


def _shape_of(value) -> tf.TensorShape:
  shape = getattr(value, "shape", None)
  return tf.TensorShape(shape if shape is not None else [])


def split_seed(seed, n: int) -> list:
  """``n`` seeds for independent draws from one (None, an int, or a
  stateless ``[2]`` seed)."""
  if seed is None:
    return [None] * n
  if isinstance(seed, int):
    return [seed + i for i in range(n)]
  return list(tf.unstack(tf.random.experimental.stateless_split(
      tf.cast(seed, tf.int64), n)))


def random_uniform(shape, dtype: tf.DType, seed=None, minval=0.0,
                   maxval=1.0) -> tf.Tensor:
  """Uniform samples in [minval, maxval); ``seed`` as in TFP: None, an int
  (an op seed) or a stateless ``[2]`` tensor."""
  if seed is None or isinstance(seed, int):
    return tf.random.uniform(shape, minval, maxval, dtype, seed=seed)
  return tf.random.stateless_uniform(shape, tf.cast(seed, tf.int64), minval,
                                     maxval, dtype)


def random_normal(shape, dtype: tf.DType, seed=None) -> tf.Tensor:
  if seed is None or isinstance(seed, int):
    return tf.random.normal(shape, dtype=dtype, seed=seed)
  return tf.random.stateless_normal(shape, tf.cast(seed, tf.int64),
                                    dtype=dtype)


def _not_implemented(obj, method: str) -> NotImplementedError:
  return NotImplementedError(
      f"{type(obj).__name__} does not implement {method}()")


# -- the base class -----------------------------------------------------------


class Distribution(keras.layers.Layer, tf.Module):
  """Base of the tensorcoder distributions: TFP's interface, a Keras layer.

  Subclasses implement the underscored methods they can (``_log_prob`` or
  ``_prob``, ``_log_cdf`` or ``_cdf``, ``_quantile``, ``_sample_n``,
  ``_mean``, ``_mode``, ...) and ``_batch_shape``; the public methods
  convert their inputs, fall back between the plain and log forms as TFP
  does, and raise ``NotImplementedError`` for what is not provided.

  Args:
    dtype: the dtype of samples and of computations (also accepted: any
      Keras dtype policy, whose variable dtype is then used).
    parameters: the constructor's parameters, returned by ``parameters``.
    name: the name (a Keras layer name).
    **kwargs: Keras layer arguments (``trainable``, ...).
  """

  def __init__(self, dtype=None, parameters: Optional[dict] = None,
               name: Optional[str] = None, **kwargs):
    try:
      value_dtype = tf.as_dtype(dtype) if dtype is not None else None
    except TypeError:  # A Keras dtype policy (or its config).
      value_dtype = None
    layer_dtype = dtype
    if value_dtype is not None:
      layer_dtype = value_dtype.name if value_dtype.is_floating else None
    keras.layers.Layer.__init__(self, name=name or type(self).__name__,
                                dtype=layer_dtype, autocast=False, **kwargs)
    self._value_dtype = value_dtype or tf.as_dtype(self.variable_dtype)
    self._dist_parameters = dict(parameters or {})
    self.built = True

  # Keras sets ``name`` as an attribute; tf.Module defines a read-only
  # property of that name. This property serves both.
  @property
  def name(self) -> str:
    return self._layer_name

  @name.setter
  def name(self, value: str) -> None:
    self._layer_name = value

  @property
  def name_scope(self):
    """A ``tf.name_scope`` of this distribution's name (as tf.Module's)."""
    return tf.name_scope(self.name)

  @property
  def trainable_variables(self) -> list:
    """The trainable variables, as ``tf.Module`` finds them: the Keras
    weights (of this layer and of the layers it is made of) and trainable
    ``tf.Variable`` parameters (which Keras 3 models do not collect)."""
    if not self.trainable:
      return []
    found = list(keras.layers.Layer.trainable_variables.fget(self))
    # The storage of Keras weights (trainable or not) is not listed again.
    seen = {id(v) for v in found}
    for v in self.weights:
      seen.update((id(v), id(v.value)))
    for v in tf.Module.trainable_variables.fget(self):
      if id(v) not in seen:
        seen.add(id(v))
        found.append(v)
    return found

  def _expose_to_modules(self, variables) -> None:
    """Lets ``tf.Module`` holders, ``tf.train.Checkpoint`` and SavedModel
    see Keras ``variables`` created by this layer (Keras 3 tracks them for
    Keras only): their ``tf.Variable`` storage is held as an attribute."""
    storage = []
    for v in variables:
      value = v.value if isinstance(v, keras.Variable) else v
      if isinstance(value, tf.Variable):
        storage.append(value)
    self._module_variables = tuple(storage)

  def call(self, inputs):
    """As a layer, a distribution returns the probability (density) of its
    inputs."""
    return self.prob(inputs)

  # -- properties ------------------------------------------------------------

  @property
  def dtype(self) -> tf.DType:
    """The dtype of samples and of the computations."""
    return self._value_dtype

  @property
  def parameters(self) -> dict:
    """The parameters the distribution was made with."""
    return dict(self._dist_parameters)

  @property
  def validate_args(self) -> bool:
    return False

  @property
  def allow_nan_stats(self) -> bool:
    return True

  @property
  def batch_shape(self) -> tf.TensorShape:
    """The static shape of the batch of independent distributions."""
    return tf.TensorShape(self._batch_shape())

  def batch_shape_tensor(self) -> tf.Tensor:
    """The batch shape as an int32 tensor."""
    shape = self.batch_shape
    if shape.is_fully_defined():
      return tf.constant(shape.as_list(), tf.int32)
    return tf.cast(self._batch_shape_tensor(), tf.int32)

  @property
  def event_shape(self) -> tf.TensorShape:
    """The shape of one sample of one distribution (scalar: ``[]``)."""
    return tf.TensorShape(self._event_shape())

  def event_shape_tensor(self) -> tf.Tensor:
    shape = self.event_shape
    if shape.is_fully_defined():
      return tf.constant(shape.as_list(), tf.int32)
    return tf.cast(self._event_shape_tensor(), tf.int32)

  def _batch_shape(self) -> tf.TensorShape:
    raise _not_implemented(self, "batch_shape")

  def _batch_shape_tensor(self) -> tf.Tensor:
    raise _not_implemented(self, "batch_shape_tensor")

  def _event_shape(self) -> tf.TensorShape:
    return tf.TensorShape([])

  def _event_shape_tensor(self) -> tf.Tensor:
    return tf.constant([], tf.int32)

  # -- conversions -----------------------------------------------------------

  def _convert(self, value) -> tf.Tensor:
    return to_dtype(value, self.dtype)

  # -- densities and distribution functions ----------------------------------

  def prob(self, value, name: Optional[str] = None) -> tf.Tensor:
    """Probability density (or mass) at ``value``."""
    del name
    value = self._convert(value)
    try:
      return self._prob(value)
    except NotImplementedError as error:
      try:
        return tf.exp(self._log_prob(value))
      except NotImplementedError:
        raise error from None

  def log_prob(self, value, name: Optional[str] = None) -> tf.Tensor:
    """Log probability density (or mass) at ``value``."""
    del name
    value = self._convert(value)
    try:
      return self._log_prob(value)
    except NotImplementedError as error:
      try:
        return tf.math.log(self._prob(value))
      except NotImplementedError:
        raise error from None

  def cdf(self, value, name: Optional[str] = None) -> tf.Tensor:
    """P(X <= value)."""
    del name
    return self._call_cdf(self._convert(value))

  def log_cdf(self, value, name: Optional[str] = None) -> tf.Tensor:
    """log P(X <= value)."""
    del name
    value = self._convert(value)
    try:
      return self._log_cdf(value)
    except NotImplementedError as error:
      try:
        return tf.math.log(self._cdf(value))
      except NotImplementedError:
        raise error from None

  def survival_function(self, value, name: Optional[str] = None) -> tf.Tensor:
    """P(X > value)."""
    del name
    value = self._convert(value)
    try:
      return self._survival_function(value)
    except NotImplementedError as error:
      try:
        return tf.exp(self._log_survival_function(value))
      except NotImplementedError:
        try:
          return 1 - self._call_cdf(value)
        except NotImplementedError:
          raise error from None

  def log_survival_function(self, value,
                            name: Optional[str] = None) -> tf.Tensor:
    """log P(X > value)."""
    del name
    value = self._convert(value)
    try:
      return self._log_survival_function(value)
    except NotImplementedError as error:
      try:
        return tf.math.log(self._survival_function(value))
      except NotImplementedError:
        try:
          return tf.math.log1p(-self._call_cdf(value))
        except NotImplementedError:
          raise error from None

  def _call_cdf(self, value: tf.Tensor) -> tf.Tensor:
    try:
      return self._cdf(value)
    except NotImplementedError as error:
      try:
        return tf.exp(self._log_cdf(value))
      except NotImplementedError:
        raise error from None

  def quantile(self, value, name: Optional[str] = None) -> tf.Tensor:
    """The inverse of the CDF."""
    del name
    return self._quantile(self._convert(value))

  def _prob(self, value):
    raise _not_implemented(self, "prob")

  def _log_prob(self, value):
    raise _not_implemented(self, "log_prob")

  def _cdf(self, value):
    raise _not_implemented(self, "cdf")

  def _log_cdf(self, value):
    raise _not_implemented(self, "log_cdf")

  def _survival_function(self, value):
    raise _not_implemented(self, "survival_function")

  def _log_survival_function(self, value):
    raise _not_implemented(self, "log_survival_function")

  def _quantile(self, value):
    raise _not_implemented(self, "quantile")

  # -- statistics ------------------------------------------------------------

  def mean(self, name: Optional[str] = None) -> tf.Tensor:
    del name
    return self._mean()

  def mode(self, name: Optional[str] = None) -> tf.Tensor:
    del name
    return self._mode()

  def stddev(self, name: Optional[str] = None) -> tf.Tensor:
    del name
    try:
      return self._stddev()
    except NotImplementedError as error:
      try:
        return tf.sqrt(self._variance())
      except NotImplementedError:
        raise error from None

  def variance(self, name: Optional[str] = None) -> tf.Tensor:
    del name
    try:
      return self._variance()
    except NotImplementedError as error:
      try:
        return tf.square(self._stddev())
      except NotImplementedError:
        raise error from None

  def _mean(self):
    raise _not_implemented(self, "mean")

  def _mode(self):
    raise _not_implemented(self, "mode")

  def _stddev(self):
    raise _not_implemented(self, "stddev")

  def _variance(self):
    raise _not_implemented(self, "variance")

  # -- sampling --------------------------------------------------------------

  def sample(self, sample_shape=(), seed=None,
             name: Optional[str] = None) -> tf.Tensor:
    """Samples of shape ``sample_shape + batch_shape + event_shape``.

    ``seed``: None, a Python int (an op seed) or a stateless ``[2]`` int
    tensor, as TFP takes it.
    """
    del name
    static = None
    if isinstance(sample_shape, int):
      static = [sample_shape]
    elif isinstance(sample_shape, (tuple, list)) and all(
        isinstance(d, int) for d in sample_shape):
      static = list(sample_shape)
    shape = tf.reshape(tf.cast(sample_shape, tf.int32), [-1])
    n = tf.reduce_prod(shape)
    samples = self._sample_n(n, seed)
    result = tf.reshape(samples, tf.concat([shape, tf.shape(samples)[1:]], 0))
    if static is not None:
      result = tf.ensure_shape(result, tf.TensorShape(static).concatenate(
          self.batch_shape).concatenate(self.event_shape))
    return result

  def _sample_n(self, n, seed=None):
    raise _not_implemented(self, "sample")


class Adapter(Distribution):
  """A distribution derived from another one, ``base``, of the same shape.

  Holds ``base`` (a tracked sublayer when it is one of the distributions
  here) and forwards ``dtype``, ``batch_shape`` and ``event_shape`` to it;
  ``parameters`` is ``{"base": base}``.
  """

  def __init__(self, base, name: Optional[str] = None,
               parameters: Optional[dict] = None, **kwargs):
    super().__init__(dtype=tf.as_dtype(base.dtype),
                     parameters=parameters or {"base": base},
                     name=name or type(self).__name__, **kwargs)
    self._base = base

  @property
  def base(self):
    """The underlying distribution."""
    return self._base

  def _batch_shape(self) -> tf.TensorShape:
    return tf.TensorShape(self.base.batch_shape)

  def _batch_shape_tensor(self) -> tf.Tensor:
    return self.base.batch_shape_tensor()

  def _event_shape(self) -> tf.TensorShape:
    return tf.TensorShape(self.base.event_shape)

  def _event_shape_tensor(self) -> tf.Tensor:
    return self.base.event_shape_tensor()


# -- location-scale families ---------------------------------------------------


class LocationScale(Distribution):
  """Shared parameter handling of the location-scale families.

  ``loc`` and ``scale`` may be numbers, arrays, tensors or variables
  (variables are read at each use); their dtype is the float dtype of the
  parameters that have one (float32 for Python numbers and integers), or
  ``dtype``. ``validate_args`` and ``allow_nan_stats`` are accepted as TFP
  takes them (no argument checks are made).
  """

  def __init__(self, loc=0.0, scale=1.0, validate_args: bool = False,
               allow_nan_stats: bool = True, name: Optional[str] = None,
               dtype=None):
    del validate_args, allow_nan_stats
    dtype = common_dtype([loc, scale], dtype)
    super().__init__(dtype=dtype, parameters=dict(loc=loc, scale=scale),
                     name=name or type(self).__name__)
    self._loc_parameter = as_parameter(loc, dtype)
    self._scale_parameter = as_parameter(scale, dtype)

  @property
  def loc(self) -> tf.Tensor:
    return to_dtype(self._loc_parameter, self.dtype)

  @property
  def scale(self) -> tf.Tensor:
    return to_dtype(self._scale_parameter, self.dtype)

  def _batch_shape(self) -> tf.TensorShape:
    return tf.broadcast_static_shape(_shape_of(self._loc_parameter),
                                     _shape_of(self._scale_parameter))

  def _batch_shape_tensor(self) -> tf.Tensor:
    return tf.broadcast_dynamic_shape(tf.shape(self.loc),
                                      tf.shape(self.scale))

  def _z(self, x: tf.Tensor) -> tf.Tensor:
    return (x - self.loc) / self.scale

  def _log_survival_function(self, x: tf.Tensor) -> tf.Tensor:
    # Symmetric families: S(x) = F(2 loc - x).
    return self._log_cdf(2 * self.loc - x)

  def _survival_function(self, x: tf.Tensor) -> tf.Tensor:
    return tf.exp(self._log_survival_function(x))

  def _cdf(self, x: tf.Tensor) -> tf.Tensor:
    return tf.exp(self._log_cdf(x))

  def _prob(self, x: tf.Tensor) -> tf.Tensor:
    return tf.exp(self._log_prob(x))

  def _centre(self) -> tf.Tensor:
    return tf.broadcast_to(self.loc, self.batch_shape_tensor())

  def _mean(self) -> tf.Tensor:
    return self._centre()

  def _mode(self) -> tf.Tensor:
    return self._centre()

  def _sample_n(self, n, seed=None) -> tf.Tensor:
    shape = tf.concat([[n], self.batch_shape_tensor()], 0)
    # Uniforms in the open interval (0, 1).
    tiny = tf.constant(np.finfo(self.dtype.as_numpy_dtype).tiny, self.dtype)
    u = random_uniform(shape, self.dtype, seed, minval=tiny)
    return self._quantile(u)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return self._quantile(tf.cast(tail_mass / 2, self.dtype))

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return self._quantile(tf.cast(1 - tail_mass / 2, self.dtype))


class Normal(LocationScale):
  """Normal distribution N(loc, scale^2)."""

  def _log_prob(self, x) -> tf.Tensor:
    z = self._z(x)
    return -0.5 * z * z - _LOG_SQRT_2PI - tf.math.log(self.scale)

  def _log_cdf(self, x) -> tf.Tensor:
    return _log_ndtr(self._z(x))

  def _quantile(self, p) -> tf.Tensor:
    return self.loc + self.scale * math.sqrt(2) * tf.math.erfinv(2 * p - 1)

  def _stddev(self) -> tf.Tensor:
    return tf.broadcast_to(self.scale, self.batch_shape_tensor())

  def _sample_n(self, n, seed=None) -> tf.Tensor:
    shape = tf.concat([[n], self.batch_shape_tensor()], 0)
    return self.loc + self.scale * random_normal(shape, self.dtype, seed)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    # ndtri is accurate for small p, unlike erfinv(2p - 1).
    p = tf.cast(tail_mass / 2, self.dtype)
    return self.loc + self.scale * tf.math.ndtri(p)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    p = tf.cast(tail_mass / 2, self.dtype)
    return self.loc - self.scale * tf.math.ndtri(p)


class Logistic(LocationScale):
  """Logistic distribution with location ``loc`` and scale ``scale``."""

  def _log_prob(self, x) -> tf.Tensor:
    z = self._z(x)
    return -z - 2 * tf.math.softplus(-z) - tf.math.log(self.scale)

  def _log_cdf(self, x) -> tf.Tensor:
    return -tf.math.softplus(-self._z(x))

  def _quantile(self, p) -> tf.Tensor:
    return self.loc + self.scale * (tf.math.log(p) - tf.math.log1p(-p))

  def _stddev(self) -> tf.Tensor:
    return tf.broadcast_to(self.scale * (math.pi / math.sqrt(3)),
                           self.batch_shape_tensor())


class Laplace(LocationScale):
  """Laplace distribution with location ``loc`` and scale ``scale``."""

  def _log_prob(self, x) -> tf.Tensor:
    return -tf.abs(self._z(x)) - tf.math.log(2 * self.scale)

  def _log_cdf(self, x) -> tf.Tensor:
    z = self._z(x)
    # z < 0: log(exp(z) / 2); z >= 0: log(1 - exp(-z) / 2).
    return tf.where(z < 0, tf.minimum(z, 0.0) - math.log(2),
                    tf.math.log1p(-0.5 * tf.exp(-tf.abs(z))))

  def _quantile(self, p) -> tf.Tensor:
    return self.loc - self.scale * tf.sign(p - 0.5) * tf.math.log1p(
        -2 * tf.abs(p - 0.5))

  def _stddev(self) -> tf.Tensor:
    return tf.broadcast_to(self.scale * math.sqrt(2),
                           self.batch_shape_tensor())


# -- mixtures -------------------------------------------------------------------


class Categorical(Distribution):
  """Categorical distribution over ``{0, ..., K - 1}`` (the last axis of
  ``logits`` or ``probs``; ``probs`` need not be normalized), the mixing
  distribution of :class:`MixtureSameFamily`.

  Args:
    logits: unnormalized log probabilities (give this or ``probs``).
    probs: probabilities (or nonnegative weights).
    dtype: the dtype of samples (int32).
    validate_args, allow_nan_stats: accepted as TFP takes them.
    name: the name.
  """

  def __init__(self, logits=None, probs=None, dtype=tf.int32,
               validate_args: bool = False, allow_nan_stats: bool = True,
               name: str = "Categorical"):
    del validate_args, allow_nan_stats
    if (logits is None) == (probs is None):
      raise ValueError("give exactly one of logits and probs")
    given = logits if logits is not None else probs
    param_dtype = common_dtype([given])
    super().__init__(dtype=dtype, parameters=dict(logits=logits, probs=probs),
                     name=name)
    self._param_dtype = param_dtype
    self._logits = (None if logits is None else
                    as_parameter(logits, self._param_dtype))
    self._probs = (None if probs is None else
                   as_parameter(probs, self._param_dtype))

  def logits_parameter(self) -> tf.Tensor:
    """Normalized log probabilities (log_softmax of the logits)."""
    if self._logits is not None:
      return tf.nn.log_softmax(to_dtype(self._logits, self._param_dtype))
    log_probs = tf.math.log(to_dtype(self._probs, self._param_dtype))
    return log_probs - tf.math.reduce_logsumexp(log_probs, -1, keepdims=True)

  def probs_parameter(self) -> tf.Tensor:
    """Normalized probabilities."""
    return tf.exp(self.logits_parameter())

  @property
  def num_categories(self):
    return _shape_of(self._logits if self._logits is not None
                     else self._probs)[-1]

  def _given(self):
    return self._logits if self._logits is not None else self._probs

  def _batch_shape(self) -> tf.TensorShape:
    return _shape_of(self._given())[:-1]

  def _batch_shape_tensor(self) -> tf.Tensor:
    return tf.shape(tf.convert_to_tensor(self._given()))[:-1]

  def _log_prob(self, k) -> tf.Tensor:
    logits = self.logits_parameter()
    k = tf.cast(k, tf.int32)
    shape = tf.broadcast_dynamic_shape(tf.shape(k), tf.shape(logits)[:-1])
    logits = tf.broadcast_to(logits, tf.concat([shape, tf.shape(logits)[-1:]],
                                               0))
    return tf.gather(logits, tf.broadcast_to(k, shape), axis=-1,
                     batch_dims=len(logits.shape) - 1)

  def _mode(self) -> tf.Tensor:
    return tf.cast(tf.argmax(self.logits_parameter(), axis=-1), self.dtype)

  def _sample_n(self, n, seed=None) -> tf.Tensor:
    logits = self.logits_parameter()
    flat = tf.reshape(logits, [-1, tf.shape(logits)[-1]])
    if seed is None or isinstance(seed, int):
      draws = tf.random.categorical(flat, n, seed=seed)
    else:
      draws = tf.random.stateless_categorical(flat, n,
                                              tf.cast(seed, tf.int64))
    draws = tf.transpose(draws)
    return tf.cast(tf.reshape(draws, tf.concat(
        [[n], self.batch_shape_tensor()], 0)), self.dtype)

  def _convert(self, value) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(value), self.dtype)


def mixture_log_weights(mixture_distribution, dtype: tf.DType) -> tf.Tensor:
  """Normalized log weights of a Categorical-like mixing distribution
  (this module's ``Categorical``, TFP's, or anything with
  ``logits_parameter()`` or ``probs_parameter()``)."""
  if hasattr(mixture_distribution, "logits_parameter"):
    try:
      logits = mixture_distribution.logits_parameter()
      return tf.cast(tf.nn.log_softmax(logits), dtype)
    except NotImplementedError:
      pass
  probs = tf.cast(mixture_distribution.probs_parameter(), dtype)
  log_probs = tf.math.log(probs)
  return log_probs - tf.math.reduce_logsumexp(log_probs, -1, keepdims=True)


class MixtureSameFamily(Distribution):
  """sum_k w_k p_k(x): components of one family along the last batch axis.

  As ``tfp.distributions.MixtureSameFamily``: ``components_distribution``
  has batch shape ``batch_shape + [K]`` and ``mixture_distribution`` is a
  Categorical over the K components (batch shape broadcasting to
  ``batch_shape``). Densities, CDFs and survival functions are the
  weighted sums of the components', computed in the log domain; there is
  no ``quantile`` or ``mode`` (NotImplementedError, as in TFP), and the
  range-coding tails (:func:`.helpers.lower_tail`) are found by bisection of
  the mixture's log CDF between the components' tails, so they are exact
  to the dtype's resolution.

  Args:
    mixture_distribution: the Categorical of the weights.
    components_distribution: the K components (a batch).
    reparameterize, validate_args, allow_nan_stats: accepted as TFP takes
      them.
    name: the name.
  """

  def __init__(self, mixture_distribution, components_distribution,
               reparameterize: bool = False, validate_args: bool = False,
               allow_nan_stats: bool = True,
               name: str = "MixtureSameFamily"):
    del reparameterize, validate_args, allow_nan_stats
    super().__init__(
        dtype=tf.as_dtype(components_distribution.dtype),
        parameters=dict(mixture_distribution=mixture_distribution,
                        components_distribution=components_distribution),
        name=name)
    self._mixture_distribution = mixture_distribution
    self._components_distribution = components_distribution

  @property
  def mixture_distribution(self):
    return self._mixture_distribution

  @property
  def components_distribution(self):
    return self._components_distribution

  def _log_weights(self) -> tf.Tensor:
    return mixture_log_weights(self.mixture_distribution, self.dtype)

  def _batch_shape(self) -> tf.TensorShape:
    return tf.broadcast_static_shape(
        tf.TensorShape(self.mixture_distribution.batch_shape),
        tf.TensorShape(self.components_distribution.batch_shape)[:-1])

  def _batch_shape_tensor(self) -> tf.Tensor:
    return tf.broadcast_dynamic_shape(
        tf.cast(self.mixture_distribution.batch_shape_tensor(), tf.int32),
        tf.cast(self.components_distribution.batch_shape_tensor(),
                tf.int32)[:-1])

  def _event_shape(self) -> tf.TensorShape:
    return tf.TensorShape(self.components_distribution.event_shape)

  def _event_shape_tensor(self) -> tf.Tensor:
    return self.components_distribution.event_shape_tensor()

  def _pad(self, x: tf.Tensor) -> tf.Tensor:
    """x with an axis for the components before its event dimensions."""
    rank = self.event_shape.rank or 0
    return tf.expand_dims(x, -1 - rank)

  def _mix(self, component_values: tf.Tensor) -> tf.Tensor:
    return tf.math.reduce_logsumexp(self._log_weights() + component_values,
                                    axis=-1)

  def _log_prob(self, x) -> tf.Tensor:
    return self._mix(self.components_distribution.log_prob(self._pad(x)))

  def _log_cdf(self, x) -> tf.Tensor:
    return self._mix(self.components_distribution.log_cdf(self._pad(x)))

  def _log_survival_function(self, x) -> tf.Tensor:
    return self._mix(
        self.components_distribution.log_survival_function(self._pad(x)))

  def _mean(self) -> tf.Tensor:
    weights = tf.exp(self._log_weights())
    return tf.reduce_sum(weights * self.components_distribution.mean(), -1)

  def _sample_n(self, n, seed=None) -> tf.Tensor:
    component_seed, mixture_seed = split_seed(seed, 2)
    samples = self.components_distribution.sample(n, seed=component_seed)
    logits = self._log_weights()
    batch = self.batch_shape_tensor()
    num_components = tf.shape(logits)[-1]
    logits = tf.broadcast_to(logits, tf.concat([batch, [num_components]], 0))
    flat = tf.reshape(logits, [-1, num_components])
    if mixture_seed is None or isinstance(mixture_seed, int):
      draws = tf.random.categorical(flat, n, seed=mixture_seed)
    else:
      draws = tf.random.stateless_categorical(flat, n, mixture_seed)
    draws = tf.reshape(tf.transpose(draws), tf.concat([[n], batch], 0))
    samples = tf.broadcast_to(samples, tf.concat(
        [[n], batch, [num_components]], 0))
    return tf.gather(samples, draws, axis=-1, batch_dims=len(samples.shape) - 1)

  def _tail(self, tail_mass, lower: bool) -> tf.Tensor:
    from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
    components = self.components_distribution
    if lower:
      per_component = helpers.lower_tail(components, tail_mass)
      log_mass = self.log_cdf
    else:
      per_component = helpers.upper_tail(components, tail_mass)
      log_mass = self.log_survival_function
    per_component = tf.cast(per_component, self.dtype)
    target = tf.math.log(tf.cast(tail_mass / 2, self.dtype))
    # The mixture's tail mass at the outermost component tail is at most
    # the target, and at the innermost at least: a bracket.
    outer = (tf.reduce_min if lower else tf.reduce_max)(per_component, -1)
    inner = (tf.reduce_max if lower else tf.reduce_min)(per_component, -1)
    outer = tf.broadcast_to(outer, self.batch_shape_tensor())
    inner = tf.broadcast_to(inner, self.batch_shape_tensor())

    def bisect(i, outer, inner):
      middle = (outer + inner) / 2
      beyond = log_mass(middle) <= target  # middle is still a valid tail.
      return (i + 1, tf.where(beyond, middle, outer),
              tf.where(beyond, inner, middle))

    _, outer, _ = tf.while_loop(lambda i, *_: i < 64, bisect,
                                (0, outer, inner))
    return tf.stop_gradient(outer)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return self._tail(tail_mass, lower=True)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return self._tail(tail_mass, lower=False)
