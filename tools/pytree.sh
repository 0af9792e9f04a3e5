#!/usr/bin/env bash
# Fast Python iteration without a Bazel run per test: builds the compiled
# parts once (the TF op library, the pybind11 module, _build_info.py), then
# mirrors python/ into a symlink tree beside them. Edits to .py files show
# through at once; re-run after adding files or changing C++.
#
#   tools/pytree.sh [DIR]     (default /tmp/tensorcoder-pytree)
#   PYTHONPATH=DIR .venv/bin/python -m pytest DIR/tensorcoder/layers/gdn_test.py
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-/tmp/tensorcoder-pytree}"
"$ROOT/tools/dev.sh" bazel build //python/tensorcoder/ops:_tensorcoder_ops.so \
  //python/tensorcoder/ops:_build_info.py //python/tensorcoder:_coder.so >&2
BIN="$(cd "$ROOT" && bazel info output_path 2>/dev/null)/k8-fastbuild/bin"
rm -rf "$DEST"
mkdir -p "$DEST"
(cd "$ROOT/python" && find tensorcoder -type d) | while read -r d; do
  mkdir -p "$DEST/$d"
done
(cd "$ROOT/python" && find tensorcoder -type f ! -name '*.pyc') | while read -r f; do
  ln -s "$ROOT/python/$f" "$DEST/$f"
done
for f in tensorcoder/ops/_tensorcoder_ops.so tensorcoder/ops/_build_info.py \
         tensorcoder/_coder.so; do
  rm -f "$DEST/$f"
  cp "$BIN/python/$f" "$DEST/$f"
done
echo "$DEST"
