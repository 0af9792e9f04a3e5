#!/usr/bin/env bash
# Prepares .gpu/ in the repository root for a device run of ladder_torch.py:
# the latest backup of a ladder training run as .gpu/start.npz, and the
# training photographs as .gpu/bsds500 (together under the 64 MiB a device
# call carries); .gpu/ is kept out of git (.git/info/exclude).
#
#   tools/torch_train/prepare.sh [RUN_MODEL_DIR]   (default /work/runs/ladder-v2/model)
#
# Then run on the device (carry: [".gpu"]) the command this script prints.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${1:-/work/runs/ladder-v2/model}"
DATA="${DATA:-$ROOT/../shared/datasets/bsds500}"
cd "$ROOT"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu
TREE="$(tools/pytree.sh "$(mktemp -d)")"
PYTHONPATH="$TREE" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \
  tools/torch_train/convert.py export "$RUN" .gpu/start.npz
cp -r "$DATA" .gpu/bsds500
du -sh .gpu
cat <<'CMD'
device command (carry [".gpu"]):
  PYTHONUNBUFFERED=1 python3 tools/torch_train/ladder_torch.py --data .gpu/bsds500 --init .gpu/start.npz --out $OUT/trained.npz --steps 1000000 --seconds 480 --batch-size 16 --patch-size 256 --learning-rate 1e-4
then here:
  PYTHONPATH=<pytree> .venv/bin/python tools/torch_train/convert.py import <files_at>/trained.npz ladder.keras
CMD
