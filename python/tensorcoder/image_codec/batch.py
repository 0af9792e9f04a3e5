"""Many files in one process: what ``tensorcoder compress`` and
``decompress`` do with several inputs.

TensorFlow starts once and the model is loaded once (``codec.load_model``
caches it), so the per-image cost is the coding itself. Each output is
written atomically; a file that fails is reported and the others go on.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import time
from typing import Callable, Optional, Sequence

from tensorcoder import _atomic
from tensorcoder.image_codec import images

# What decompress reads (compress reads images.IMAGE_EXTENSIONS).
COMPRESSED_EXTENSION = ".tci"


@dataclasses.dataclass(frozen=True)
class Job:
  source: str
  target: str


def _expand(sources: Sequence[str], extensions: Sequence[str]) -> list[str]:
  """Files named by ``sources`` (files; folders, whose files with one of
  ``extensions`` are taken, not recursively; globs), in order, once each."""
  paths: list[str] = []
  for source in sources:
    if os.path.isdir(source):
      found = [os.path.join(source, name) for name in sorted(os.listdir(source))
               if name.lower().endswith(tuple(extensions))
               and os.path.isfile(os.path.join(source, name))]
      if not found:
        raise ValueError(f"{source}: no {'/'.join(extensions)} files in this "
                         "folder")
      paths.extend(found)
    elif any(c in source for c in "*?[") and not os.path.exists(source):
      found = sorted(p for p in glob.glob(source) if os.path.isfile(p))
      if not found:
        raise ValueError(f"{source}: matches no file")
      paths.extend(found)
    else:
      paths.append(images.resolve(source))
  unique: list[str] = []
  seen: set[str] = set()
  for path in paths:
    key = os.path.realpath(path)
    if key not in seen:
      seen.add(key)
      unique.append(path)
  return unique


def plan(arguments: Sequence[str], output_dir: Optional[str],
         compress: bool) -> list[Job]:
  """The (input, output) pairs of a compress/decompress command line.

  ``IN OUT`` (two arguments, the second not an input of the command: not an
  image for ``compress``, not a ``.tci`` file for ``decompress``) names the
  output; otherwise every argument is an input (file, folder or glob), and
  each output is the input's name with the output extension, beside it or
  in ``output_dir``.

  Raises:
    ValueError: no input, or two inputs that would write the same output.
  """
  inputs_end = (images.IMAGE_EXTENSIONS if compress
                else (COMPRESSED_EXTENSION,))
  extension = COMPRESSED_EXTENSION if compress else ".png"
  arguments = list(arguments)
  if not arguments:
    raise ValueError("no input files")
  if (len(arguments) == 2 and output_dir is None
      and not arguments[1].lower().endswith(inputs_end)
      and not os.path.isdir(arguments[0])):
    return [Job(images.resolve(arguments[0]), arguments[1])]
  sources = _expand(arguments, inputs_end)
  jobs = []
  for source in sources:
    stem = os.path.splitext(os.path.basename(source))[0] + extension
    folder = output_dir if output_dir is not None else os.path.dirname(source)
    jobs.append(Job(source, os.path.join(folder, stem)))
  targets: dict[str, str] = {}
  for job in jobs:
    key = os.path.realpath(job.target)
    if key in targets:
      raise ValueError(f"{targets[key]} and {job.source} would both be "
                       f"written to {job.target}; use --output-dir or "
                       "rename one")
    targets[key] = job.source
  return jobs


def check_targets(jobs: Sequence[Job], output_dir: Optional[str]) -> None:
  """Creates ``output_dir`` if needed and checks that every output can be
  written (OSError naming the first that cannot)."""
  if output_dir is not None:
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
      raise ValueError(f"--output-dir {output_dir}: not a folder")
    os.makedirs(output_dir, exist_ok=True)
  for job in jobs:
    _atomic.check_writable(job.target)


@dataclasses.dataclass
class Outcome:
  done: int = 0
  failed: int = 0
  seconds: float = 0.0


def run(jobs: Sequence[Job], work: Callable[[Job], str],
        report: Callable[[str], None], fail: Callable[[Job, BaseException],
                                                      None]) -> Outcome:
  """Runs ``work`` (which returns a line to ``report``) on every job; a job
  that raises is passed to ``fail`` and the others go on (KeyboardInterrupt
  stops everything)."""
  outcome = Outcome()
  start = time.perf_counter()
  for job in jobs:
    try:
      report(work(job))
      outcome.done += 1
    except Exception as error:  # pylint: disable=broad-except
      outcome.failed += 1
      fail(job, error)
  outcome.seconds = time.perf_counter() - start
  return outcome
