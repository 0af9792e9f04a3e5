"""Times TensorFlow Compression's range coder on a saved workload.

Runs in a separate environment with TFC installed (it needs TF <= 2.14), e.g.

    python -m venv /tmp/tfc-venv
    /tmp/tfc-venv/bin/pip install "tensorflow==2.14.*" tensorflow-compression==2.14.1
    /tmp/tfc-venv/bin/python bench/tfc_reference.py IN.npz OUT.npz

IN.npz holds `lookup`, `indexes` and `symbols` (see coder_bench.py); OUT.npz
receives the encoded bytes, the decoded symbols and the median seconds of
encode and decode (one warm-up, then 5 runs), on one thread.
"""

import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
import tensorflow_compression as tfc  # pylint: disable=g-import-not-at-top


def median_seconds(fn):
  fn()
  times = []
  for _ in range(5):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def main(in_path, out_path):
  tf.config.threading.set_intra_op_parallelism_threads(1)
  tf.config.threading.set_inter_op_parallelism_threads(1)
  data = np.load(in_path)
  lookup = tf.constant(data["lookup"])
  indexes = tf.constant(data["indexes"])
  symbols = tf.constant(data["symbols"])
  shape = tf.constant(data["symbols"].shape, tf.int32)

  def encode():
    handle = tfc.create_range_encoder([], lookup)
    handle = tfc.entropy_encode_index(handle, indexes, symbols)
    return tfc.entropy_encode_finalize(handle)

  def decode(encoded):
    handle = tfc.create_range_decoder(encoded, lookup)
    handle, decoded = tfc.entropy_decode_index(handle, indexes, shape,
                                               tf.int32)
    return decoded, tfc.entropy_decode_finalize(handle)

  encoded = encode()
  decoded, ok = decode(encoded)
  encode_s = median_seconds(encode)
  decode_s = median_seconds(lambda: decode(encoded))
  np.savez(out_path, encoded=np.frombuffer(encoded.numpy(), np.uint8),
           decoded=decoded.numpy(), ok=ok.numpy(), encode_s=encode_s,
           decode_s=decode_s, tf_version=tf.__version__)


if __name__ == "__main__":
  main(*sys.argv[1:3])
