"""What the two TFC example scripts share: PNG I/O, the training data
pipeline, the metrics, the SavedModel-based compress/decompress commands and
the command line. (TFC repeats these in each script; here they are written
once.)"""

from __future__ import annotations

import argparse
import glob

import keras
import tensorflow as tf

import tensorcoder as tfc


def read_png(filename):
  """Loads a PNG image file as uint8 [H, W, 3]."""
  return tf.image.decode_image(tf.io.read_file(filename), channels=3)


def write_png(filename, image):
  """Writes a uint8 [H, W, 3] image to a PNG file."""
  tf.io.write_file(filename, tf.image.encode_png(image))


class RateDistortionModel(keras.Model):
  """A model whose call returns (loss, bpp, mse); trains on the loss.

  Keras 3: the metrics are created in ``__init__`` and not called
  ``self.loss`` (Keras' own attribute); TFC created them in ``compile``.
  """

  def __init__(self, lmbda: float):
    super().__init__()
    self.lmbda = lmbda
    self.loss_metric = keras.metrics.Mean(name="loss")
    self.bpp_metric = keras.metrics.Mean(name="bpp")
    self.mse_metric = keras.metrics.Mean(name="mse")

  @property
  def metrics(self):
    return [self.loss_metric, self.bpp_metric, self.mse_metric]

  def _update(self, loss, bpp, mse):
    for metric, value in zip(self.metrics, (loss, bpp, mse)):
      metric.update_state(value)
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, x):
    with tf.GradientTape() as tape:
      loss, bpp, mse = self(x, training=True)
    variables = self.trainable_variables
    gradients = tape.gradient(loss, variables)
    self.optimizer.apply_gradients(zip(gradients, variables))
    return self._update(loss, bpp, mse)

  def test_step(self, x):
    return self._update(*self(x, training=False))

  def predict_step(self, x):
    raise NotImplementedError("Prediction API is not supported.")

  def compile(self, **kwargs):
    super().compile(loss=None, metrics=None, loss_weights=None,
                    weighted_metrics=None, **kwargs)


def get_custom_dataset(split: str, args) -> tf.data.Dataset:
  """Random patches of the PNG images matching ``args.train_glob``."""
  with tf.device("/cpu:0"):
    files = sorted(glob.glob(args.train_glob))
    if not files:
      raise RuntimeError(
          f"No training images found with glob '{args.train_glob}'.")
    dataset = tf.data.Dataset.from_tensor_slices(files)
    dataset = dataset.shuffle(len(files), reshuffle_each_iteration=True,
                              seed=args.seed)
    if split == "train":
      dataset = dataset.repeat()
    dtype = keras.mixed_precision.global_policy().compute_dtype
    size = (args.patchsize, args.patchsize, 3)
    dataset = dataset.map(
        lambda f: tf.cast(tf.image.random_crop(read_png(f), size,
                                               seed=args.seed), dtype),
        num_parallel_calls=args.preprocess_threads)
    return dataset.batch(args.batchsize, drop_remainder=True)


def train(model_fn, args):
  """Trains ``model_fn(args)`` and exports it as a SavedModel."""
  if args.seed is not None:
    keras.utils.set_random_seed(args.seed)
  if args.precision_policy:
    keras.mixed_precision.set_global_policy(args.precision_policy)
  if args.check_numerics:
    tf.debugging.enable_check_numerics()
  model = model_fn(args)
  model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr))
  validation = get_custom_dataset("validation", args).take(
      args.max_validation_steps)
  model.fit(
      get_custom_dataset("train", args).prefetch(8), epochs=args.epochs,
      steps_per_epoch=args.steps_per_epoch,
      validation_data=validation.cache(), validation_freq=1,
      callbacks=[keras.callbacks.TerminateOnNaN(),
                 keras.callbacks.BackupAndRestore(args.train_path)],
      verbose=int(args.verbose))
  # Keras 3: model.save writes a .keras file without the tf.function
  # signatures, so the model is exported as a SavedModel.
  tf.saved_model.save(model, args.model_path)
  return model


def compress(args) -> None:
  """Compresses a PNG image into a PackedTensors file."""
  model = tf.saved_model.load(args.model_path)  # Keras 3: not load_model.
  x = read_png(args.input_file)
  tensors = model.compress(x)
  packed = tfc.PackedTensors()
  packed.pack(tensors)
  with open(args.output_file, "wb") as f:
    f.write(packed.string)
  if args.verbose:
    x_hat = model.decompress(*tensors)
    x, x_hat = tf.cast(x, tf.float32), tf.cast(x_hat, tf.float32)
    psnr = tf.squeeze(tf.image.psnr(x, x_hat, 255))
    num_pixels = tf.reduce_prod(tf.shape(x)[:-1])
    print(f"PSNR (dB): {psnr:0.2f}")
    print(f"Bits per pixel: {len(packed.string) * 8 / num_pixels:0.4f}")


def decompress(args) -> None:
  """Decompresses a PackedTensors file into a PNG image."""
  model = tf.saved_model.load(args.model_path)
  dtypes = [t.dtype for t in model.decompress.input_signature]
  with open(args.input_file, "rb") as f:
    packed = tfc.PackedTensors(f.read())
  write_png(args.output_file, model.decompress(*packed.unpack(dtypes)))


def parser(default_model_path: str) -> tuple[argparse.ArgumentParser,
                                             argparse.ArgumentParser]:
  """TFC's command line (TF Datasets options left out); returns the parser
  and its 'train' subparser, for model-specific options."""
  top = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  top.add_argument("--verbose", "-V", action="store_true")
  top.add_argument("--model_path", default=default_model_path)
  commands = top.add_subparsers(dest="command", required=True)
  train_cmd = commands.add_parser("train")
  train_cmd.add_argument("--lambda", type=float, default=0.01, dest="lmbda")
  train_cmd.add_argument("--train_glob", required=True)
  train_cmd.add_argument("--num_filters", type=int, default=128)
  train_cmd.add_argument("--train_path",
                         default=f"/tmp/train_{default_model_path}")
  train_cmd.add_argument("--batchsize", type=int, default=8)
  train_cmd.add_argument("--patchsize", type=int, default=256)
  train_cmd.add_argument("--epochs", type=int, default=1000)
  train_cmd.add_argument("--steps_per_epoch", type=int, default=1000)
  train_cmd.add_argument("--max_validation_steps", type=int, default=16)
  train_cmd.add_argument("--preprocess_threads", type=int, default=16)
  train_cmd.add_argument("--precision_policy", default=None)
  train_cmd.add_argument("--check_numerics", action="store_true")
  train_cmd.add_argument("--lr", type=float, default=1e-4)
  train_cmd.add_argument("--seed", type=int, default=None)
  for name in ("compress", "decompress"):
    cmd = commands.add_parser(name)
    cmd.add_argument("input_file")
    cmd.add_argument("output_file")
  return top, train_cmd


def run(argv, model_fn, default_model_path: str, extra_train_args=None):
  """Parses ``argv`` and runs the command."""
  top, train_cmd = parser(default_model_path)
  if extra_train_args:
    extra_train_args(train_cmd)
  args = top.parse_args(argv[1:])
  if args.command == "train":
    train(model_fn, args)
  else:
    {"compress": compress, "decompress": decompress}[args.command](args)
