#!/usr/bin/env bash
# Prepares .gpu/ in the repository root for a device run of ladder_torch.py:
# the starting weights as .gpu/start.npz, and the training photographs as
# .gpu/bsds500, as many as fit beside the rest of the working tree under the
# 64 MiB a device call carries; .gpu/ is kept out of git (.git/info/exclude).
#
#   tools/torch_train/prepare.sh [RUN_MODEL_DIR]   (default /work/runs/ladder-v11/model)
#
# RUN_MODEL_DIR is any training run of the start's ladder (its config gives
# the levels and the validation split), e.g. one started with
# `tensorcoder train --start-from ladder-v11 --lmbdas <its eight> ...`, or
# of fewer levels (the start's gains and modulation move to its ladder).
#
# The shipped models other than SHIPPED do not go to the device, and with
# them in the tree only a few photographs fit: by default (KEEP_OUT=1) this
# script deletes them from the working tree (they are committed; nothing is
# lost) and prints the command that brings them back,
#   git checkout -- python/tensorcoder/image_codec/default_model
# to run after the device calls. KEEP_OUT=0 leaves them.
#
# START=shipped (the default): the default model shipped in the package
# (SHIPPED, at step SHIPPED_STEP), as references into its file, which
# travels anyway (convert.py export-refs: a few KB), at the run's ladder.
# START=backup: the run's latest backup in full (about 20 MiB; with two
# ladders shipped it no longer fits under the 64 MiB).
#
# Then run on the device (carry: [".gpu"]) the command this script prints.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${1:-/work/runs/ladder-v11/model}"
START="${START:-shipped}"
SHIPPED="${SHIPPED:-python/tensorcoder/image_codec/default_model/ladder-v11.keras}"
# default_model/README.md: the transforms of ladder-v11 have had 100500
# steps (ladder-v10: 99500, ladder-v8: 97500, ladder-v7: 95000, ladder-v6:
# 93000, ladder-v5: 88500, ladder-v4: 83500, ladder-v3: 66500).
SHIPPED_STEP="${SHIPPED_STEP:-100500}"
KEEP_OUT="${KEEP_OUT:-1}"
MODELS=python/tensorcoder/image_codec/default_model
DATA="${DATA:-$ROOT/../shared/datasets/bsds500}"
cd "$ROOT"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu
if [[ "$KEEP_OUT" == 1 ]]; then
  # Only a committed, unmodified model file may be deleted: git brings it
  # back. The start must stay (export-refs points into it).
  for f in "$MODELS"/*.keras; do
    [[ "$f" -ef "$SHIPPED" ]] && continue
    if git ls-files --error-unmatch "$f" >/dev/null 2>&1 \
        && git diff --quiet HEAD -- "$f"; then
      rm -- "$f"
      echo "kept out of the device call: $f"
    fi
  done
fi
TREE="$(tools/pytree.sh "$(mktemp -d)")"
case "$START" in
  shipped) PYTHONPATH="$TREE" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \
    tools/torch_train/convert.py export-refs "$SHIPPED" .gpu/start.npz \
    --run "$RUN" --step "$SHIPPED_STEP" ;;
  backup) PYTHONPATH="$TREE" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \
    tools/torch_train/convert.py export "$RUN" .gpu/start.npz ;;
  *) echo "START must be shipped or backup, not $START" >&2; exit 2 ;;
esac
# A device call carries at most 64 MiB in all: the files git tracks (or
# would), .gpu/start.npz and the images. Copy photographs (train, val, then
# test) while they fit under 63 MiB.
.venv/bin/python - "$DATA" <<'PY'
import os, shutil, subprocess, sys
data = sys.argv[1]
listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                        capture_output=True, check=True).stdout.split(b"\0")
used = sum(os.path.getsize(f) for f in listed if f and os.path.isfile(f))
used += os.path.getsize(".gpu/start.npz")
budget, copied, left = 63 << 20, 0, 0
for split in ("train", "val", "test"):
  folder = os.path.join(data, split)
  for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
    size = os.path.getsize(os.path.join(folder, name))
    if used + size > budget:
      left += 1
      continue
    os.makedirs(os.path.join(".gpu/bsds500", split), exist_ok=True)
    shutil.copyfile(os.path.join(folder, name),
                    os.path.join(".gpu/bsds500", split, name))
    used += size
    copied += 1
print(f"{copied} photographs copied, {left} left out; {used / 2**20:.1f} MiB "
      "travel in all")
if not copied:
  sys.exit("no room for training photographs under the 64 MiB a call carries")
PY
du -sh .gpu
cat <<'CMD'
device command (carry [".gpu"]; the shipped model was trained past its
learning-rate drop, so keep the rate low):
  PYTHONUNBUFFERED=1 python3 tools/torch_train/ladder_torch.py --data .gpu/bsds500 --init .gpu/start.npz --out $OUT/trained.npz --steps 1000000 --seconds 480 --batch-size 16 --patch-size 256 --learning-rate 3e-5 --quantization mixed
then here (the shipped models compute their transforms in bfloat16):
  PYTHONPATH=<pytree> .venv/bin/python tools/torch_train/convert.py import <files_at>/trained.npz ladder.keras --transform-dtype mixed_bfloat16
CMD
if [[ "$KEEP_OUT" == 1 ]]; then
  echo "after the device calls, bring the other models back:"
  echo "  git checkout -- $MODELS"
fi
