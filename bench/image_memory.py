"""Peak memory of `tensorcoder compress` and `decompress` on a large photo.

    tools/dev.sh bazel run -c opt //bench:image_memory -- [--size 4000x3000]
    python bench/image_memory.py --python-path DIR  # another checkout's python/

Makes a deterministic photo-like image of the given size (scikit-image's
astronaut photograph scaled up, plus seeded noise; a smooth synthetic
picture where scikit-image is missing), or takes ``--image``, then runs the
two commands with the embedded model, each in its own subprocess, and
reports each one's peak resident set size (``wait4``'s ``ru_maxrss``),
wall time and output, with the machine and versions, as Markdown.

The image is made in a subprocess too: a child's ``ru_maxrss`` starts from
the RSS of the process it was forked from, so this one stays small.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
  """A uint8 RGB image of natural-looking content, the same for a seed."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  try:
    import skimage.data  # pylint: disable=g-import-not-at-top
    base = Image.fromarray(skimage.data.astronaut()).resize(
        (width, height), Image.BICUBIC)
    pixels = np.asarray(base, np.float32)
  except ImportError:
    y, x = np.mgrid[:height, :width].astype(np.float32)
    pixels = 128 + 90 * np.stack([np.sin(x / 97), np.cos(y / 61),
                                  np.sin((x + y) / 143)], -1)
  pixels += rng.normal(0, 4, pixels.shape).astype(np.float32)
  return np.clip(pixels, 0, 255).astype(np.uint8)


def make_photo(path: str, size: str) -> None:
  """Writes ``photo`` of ``size`` (WIDTHxHEIGHT) as PNG, in a subprocess."""
  subprocess.run([sys.executable, __file__, "--make-photo", path, "--size",
                  size], check=True)


def measure(args: list[str], python_path: str) -> dict:
  """Runs ``python -m tensorcoder ARGS``; its peak RSS, time and status."""
  env = dict(os.environ, PYTHONPATH=python_path)
  start = time.perf_counter()
  process = subprocess.Popen([sys.executable, "-m", "tensorcoder", *args],
                             env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
  # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the
  # maximum over every child so far).
  _, status, usage = os.wait4(process.pid, 0)
  seconds = time.perf_counter() - start
  stdout, stderr = process.stdout.read(), process.stderr.read()
  process.stdout.close()
  process.stderr.close()
  code = os.waitstatus_to_exitcode(status)
  # The command's summary line, or its last line of error.
  lines = (stdout if code == 0 else stderr).decode(errors="replace")
  return dict(peak_mib=usage.ru_maxrss / 1024, seconds=seconds, status=code,
              output=(lines.strip().splitlines() or [""])[-1])


def machine() -> str:
  with open("/proc/meminfo") as f:
    total_kib = int(f.readline().split()[1])
  versions = []
  for package in ("tensorflow", "keras", "numpy", "pillow"):
    try:
      versions.append(f"{package} {importlib.metadata.version(package)}")
    except importlib.metadata.PackageNotFoundError:
      pass
  processor = platform.processor() or platform.machine()
  return (f"{os.cpu_count()} cores ({processor}), "
          f"{total_kib / 2**20:.1f} GiB RAM, Python "
          f"{platform.python_version()}, {', '.join(versions)}")


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--size", default="4000x3000", help="WIDTHxHEIGHT")
  parser.add_argument("--image", help="use this image instead")
  parser.add_argument("--python-path", default=os.pathsep.join(sys.path),
                      help="PYTHONPATH of the tensorcoder to measure "
                      "(default: this one's)")
  parser.add_argument("--keep", help="folder for the files (default: a "
                      "temporary one)")
  parser.add_argument("--make-photo", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  width, height = (int(v) for v in args.size.lower().split("x"))
  if args.make_photo:
    from PIL import Image  # pylint: disable=g-import-not-at-top
    Image.fromarray(photo(width, height)).save(args.make_photo)
    return 0
  with tempfile.TemporaryDirectory() as scratch:
    folder = args.keep or scratch
    os.makedirs(folder, exist_ok=True)
    source, described = args.image, args.image
    if source is None:
      source = os.path.join(folder, f"photo_{width}x{height}.png")
      make_photo(source, args.size)
      described = f"synthetic {width}x{height} photo"
    compressed = os.path.join(folder, "photo.tci")
    decoded = os.path.join(folder, "photo.decoded.png")
    results = {
        "compress": measure(["compress", source, compressed],
                            args.python_path),
        "decompress": measure(["decompress", compressed, decoded],
                              args.python_path),
    }
  print(f"{datetime.date.today()}; {machine()}; {described}")
  print()
  print("| command | peak RSS MiB | wall s | exit | output |")
  print("|---|---|---|---|---|")
  for name, result in results.items():
    print(f"| {name} | {result['peak_mib']:.0f} | {result['seconds']:.1f} | "
          f"{result['status']} | {result['output']} |")
  return max(result["status"] != 0 for result in results.values())


if __name__ == "__main__":
  sys.exit(main())
