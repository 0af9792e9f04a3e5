#!/usr/bin/env bash
# Builds the wheel, checks its manylinux tag and metadata, installs it into
# brand-new virtual environments outside the source tree and smoke-tests it:
# without TensorFlow (the numpy coder and the CLI work, TF is never imported)
# and with TensorFlow (the ops load and code; a TF-version mismatch gives a
# clear ImportError).
set -euo pipefail
python="$(command -v python3)"
work="${TEST_TMPDIR:-$(mktemp -d)}/wheel"
mkdir -p "$work"

wheel="$(tools/build_pip_pkg "$work/dist" | tail -n 1)"
echo "built $wheel"
case "$(basename "$wheel")" in
  *manylinux*) ;;
  *) echo "wheel has no manylinux tag: $wheel"; exit 1 ;;
esac
"$python" -m auditwheel show "$wheel" | tee "$work/show.txt"
grep -q "manylinux" "$work/show.txt"
unzip -p "$wheel" '*.dist-info/METADATA' > "$work/METADATA"
grep -q '^Requires-Dist: numpy' "$work/METADATA"
tf_minor="$("$python" -c 'import tensorflow as tf; print(".".join(tf.__version__.split(".")[:2]))')"
grep -q "tensorflow.*>=${tf_minor}.*extra == \"tf\"" "$work/METADATA"

cd "$work"  # Outside the source tree from here on.
cat > smoke_coder.py <<'PY'
import sys
import numpy as np
import tensorcoder
from tensorcoder import coder
assert "site-packages" in tensorcoder.__file__, tensorcoder.__file__
lookup = np.array([[-8, 0, 100, 200, 250, 256]], np.int32)
values = np.array([0, 1, 2, -1, 3, 4, 100, -7], np.int32)
data = coder.encode_index(lookup, np.zeros_like(values), values)
assert data.hex() == "4d358e8e497de4cf", data.hex()
assert (coder.decode_index(lookup, np.zeros_like(values), data) == values).all()
assert "tensorflow" not in sys.modules
print("numpy coder OK")
PY

# 1. No TensorFlow at all.
"$python" -m venv venv-numpy
venv-numpy/bin/pip install -q "$wheel"
if venv-numpy/bin/python -c "import tensorflow" 2>/dev/null; then
  echo "TensorFlow unexpectedly importable"; exit 1
fi
venv-numpy/bin/python smoke_coder.py
venv-numpy/bin/tensorcoder --help > /dev/null
venv-numpy/bin/python -m tensorcoder demo --symbols 4096 | tail -n 3

# 2. With TensorFlow: a new environment that sees the TensorFlow installed
#    beside the python3 on PATH (a .pth file; nothing else is shared).
"$python" -m venv venv-tf
venv-tf/bin/pip install -q --no-deps "$wheel"
tf_site="$("$python" -c 'import os, tensorflow; print(os.path.dirname(os.path.dirname(tensorflow.__file__)))')"
site="$(venv-tf/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$tf_site" > "$site/zz_tensorflow.pth"
cat > smoke_tf.py <<'PY'
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
from tensorcoder import ops
lookup = tf.constant([-8, 0, 100, 200, 250, 256])
values = tf.constant([0, 1, 2, -1, 3, 4, 100, -7])
handle = ops.create_range_encoder([], lookup)
handle = ops.entropy_encode_index(handle, tf.zeros_like(values), values)
strings = ops.entropy_encode_finalize(handle)
assert strings.numpy().hex() == "4d358e8e497de4cf"
handle = ops.create_range_decoder(strings, lookup)
handle, decoded = ops.entropy_decode_index(handle, tf.zeros_like(values), [8])
assert decoded.numpy().tolist() == values.numpy().tolist()
assert ops.entropy_decode_finalize(handle).numpy()
print("TF ops OK with TensorFlow", tf.__version__)
PY
venv-tf/bin/python smoke_tf.py
venv-tf/bin/tensorcoder --help > /dev/null

# The image codec from the installed wheel: the embedded model, the console
# script, a file round trip that reproduces the in-memory decoder.
cat > smoke_image.py <<'PY'
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
from PIL import Image
from tensorcoder.image_codec import codec, images
assert "site-packages" in codec.__file__
y, x = np.mgrid[:45, :70]
image = np.stack([x * 3, y * 5, (x + y) * 2], -1).astype(np.uint8)
Image.fromarray(image).save("img.png")
data = codec.compress_array(image)
np.save("expected.npy", codec.decompress_bytes(data))
PY
venv-tf/bin/python smoke_image.py
venv-tf/bin/tensorcoder compress img.png img.tci
venv-tf/bin/tensorcoder decompress img.tci img.out.png
venv-tf/bin/python -c "
import numpy as np; from tensorcoder.image_codec import images
assert (images.load('img.out.png') == np.load('expected.npy')).all()
print('image codec OK')"

# 3. A TensorFlow other than the one the ops were built for: a clear message.
build_info="$site/tensorcoder/ops/_build_info.py"
cp "$build_info" "$work/build_info.bak"
echo 'TF_VERSION = "2.99.0"' > "$build_info"
if venv-tf/bin/python -c "import tensorcoder.ops" 2> "$work/mismatch.txt"; then
  echo "a version mismatch was not reported"; exit 1
fi
grep -q "built for TensorFlow 2.99.0, but TensorFlow ${tf_minor}" "$work/mismatch.txt"
cp "$work/build_info.bak" "$build_info"
echo "wheel install test: all checks passed"
