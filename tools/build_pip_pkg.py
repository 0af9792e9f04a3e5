"""Builds the tensorcoder wheel from Bazel outputs.

    bazel run -c opt //tools:build_pip_pkg -- OUT_DIR

The wheel holds the Python package, the pybind11 module and (when built with
TensorFlow) the TF op library. Its metadata pins numpy >= 1.23 and, in the
``tf`` extra, the TensorFlow minor version the op library was compiled
against. The wheel is then repaired with auditwheel to a manylinux tag,
excluding TensorFlow's own libraries (they come from the tensorflow wheel).
Prints the path of the final wheel.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

VERSION = "0.1.0"
_TF_LIBS = ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2")


def runfiles_package_root() -> str:
  """The directory holding the `tensorcoder` package in the runfiles."""
  here = os.path.dirname(os.path.abspath(__file__))
  candidates = [
      os.path.join(os.environ.get("RUNFILES_DIR", ""), "tensorcoder", "python"),
      os.path.join(os.environ.get("TEST_SRCDIR", ""), "tensorcoder", "python"),
      os.path.join(here + ".runfiles", "tensorcoder", "python"),
      os.path.join(here, "..", "python"),
  ]
  for path in candidates:
    if os.path.exists(os.path.join(path, "tensorcoder", "_coder.so")):
      return os.path.realpath(path)
  raise SystemExit("cannot find the built tensorcoder package; run through "
                   "bazel run //tools:build_pip_pkg")


def package_files(root: str) -> list[str]:
  files = []
  for directory, _, names in os.walk(os.path.join(root, "tensorcoder")):
    for name in sorted(names):
      if name.endswith("_test.py") or name.endswith(".cc"):
        continue
      if name.endswith((".py", ".pyi", ".so", ".keras")):
        path = os.path.join(directory, name)
        files.append(os.path.relpath(path, root))
  return sorted(files)


def tf_version(root: str) -> str | None:
  info = os.path.join(root, "tensorcoder", "ops", "_build_info.py")
  if not os.path.exists(info):
    return None
  scope: dict = {}
  with open(info) as f:
    exec(f.read(), scope)  # pylint: disable=exec-used
  return scope["TF_VERSION"]


def metadata(tf: str | None) -> str:
  lines = [
      "Metadata-Version: 2.1",
      "Name: tensorcoder",
      f"Version: {VERSION}",
      "Summary: Learned data compression for TensorFlow: entropy models and "
      "range coding on a TF-free C++ core.",
      "License: Apache-2.0",
      f"Requires-Python: =={sys.version_info[0]}.{sys.version_info[1]}.*",
      "Requires-Dist: numpy>=1.23",
  ]
  if tf:
    major, minor = tf.split(".")[:2]
    lines += [
        "Provides-Extra: tf",
        f"Requires-Dist: tensorflow<{major}.{int(minor) + 1},>={major}.{minor}"
        "; extra == \"tf\"",
        "Provides-Extra: image",
        f"Requires-Dist: tensorflow<{major}.{int(minor) + 1},>={major}.{minor}"
        "; extra == \"image\"",
        "Requires-Dist: pillow>=10; extra == \"image\"",
        "Requires-Dist: matplotlib>=3.8; extra == \"image\"",
        "Requires-Dist: scikit-image>=0.22; extra == \"image\"",
    ]
  return "\n".join(lines) + "\n\nSee README.md.\n"


def record_line(name: str, data: bytes) -> str:
  digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
  return f"{name},sha256={digest.rstrip(b'=').decode()},{len(data)}"


def build_wheel(root: str, out_dir: str) -> str:
  tf = tf_version(root)
  python_tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
  platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
  name = f"tensorcoder-{VERSION}-{python_tag}-{python_tag}-{platform}.whl"
  dist_info = f"tensorcoder-{VERSION}.dist-info"
  entries = {path: open(os.path.join(root, path), "rb").read()
             for path in package_files(root)}
  entries[f"{dist_info}/METADATA"] = metadata(tf).encode()
  entries[f"{dist_info}/WHEEL"] = (
      "Wheel-Version: 1.0\nGenerator: tensorcoder build_pip_pkg\n"
      f"Root-Is-Purelib: false\nTag: {python_tag}-{python_tag}-{platform}\n"
  ).encode()
  entries[f"{dist_info}/entry_points.txt"] = (
      "[console_scripts]\ntensorcoder = tensorcoder.cli:program\n").encode()
  entries[f"{dist_info}/top_level.txt"] = b"tensorcoder\n"
  record = [record_line(path, data) for path, data in entries.items()]
  record.append(f"{dist_info}/RECORD,,")
  entries[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
  os.makedirs(out_dir, exist_ok=True)
  path = os.path.join(out_dir, name)
  with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
    for entry, data in entries.items():
      info = zipfile.ZipInfo(entry, date_time=(2026, 1, 1, 0, 0, 0))
      info.external_attr = (0o755 if entry.endswith(".so") else 0o644) << 16
      wheel.writestr(info, data, zipfile.ZIP_DEFLATED)
  return path


def repair(wheel: str, out_dir: str) -> str:
  """auditwheel repair to a manylinux tag; TF's libraries stay external."""
  with tempfile.TemporaryDirectory() as tmp:
    command = [sys.executable, "-m", "auditwheel", "repair", wheel, "-w", tmp]
    for lib in _TF_LIBS:
      command += ["--exclude", lib]
    subprocess.run(command, check=True)
    (repaired,) = os.listdir(tmp)
    final = os.path.join(out_dir, repaired)
    shutil.move(os.path.join(tmp, repaired), final)
  if final != wheel:
    os.remove(wheel)
  return final


def main(argv: list[str]) -> int:
  if len(argv) != 2:
    print(__doc__)
    return 2
  out_dir = os.path.abspath(os.path.join(
      os.environ.get("BUILD_WORKING_DIRECTORY", "."), argv[1]))
  os.makedirs(out_dir, exist_ok=True)
  wheel = build_wheel(runfiles_package_root(), out_dir)
  wheel = repair(wheel, out_dir)
  print(wheel)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
