"""Many files in one process: what ``tensorcoder compress`` and
``decompress`` do with several inputs.

TensorFlow starts once and the model is loaded once (``codec.load_model``
caches it), so the per-image cost is the coding itself. Reading and
decoding the next input and encoding and writing the last output (a PNG
takes about 60 ms for 768x512) run on a second thread while the model codes
the current file (``run``). Each output is written atomically; a file that
fails is reported and the others go on.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import glob
import os
import time
from typing import Any, Callable, Optional, Sequence

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


def run(jobs: Sequence[Job], load: Callable[[Job], Any],
        code: Callable[[Job, Any], Any], store: Callable[[Job, Any], str],
        report: Callable[[str], None],
        fail: Callable[[Job, BaseException], None]) -> Outcome:
  """Runs every job as ``store(job, code(job, load(job)))`` and reports the
  line ``store`` returns; a job whose step raises is passed to ``fail``
  and the others go on (KeyboardInterrupt stops everything).

  ``code`` (the model's work) runs on the calling thread, one job after
  the other. ``load`` and ``store`` (file reading, image decoding and
  encoding, writing) run on one other thread, overlapping it: the next
  job's ``load`` and the last job's ``store`` while a job is coded. At most
  one loaded input and one coded output wait besides the current job.
  Reports and failures come in the order of ``jobs``."""
  outcome = Outcome()
  start = time.perf_counter()
  with concurrent.futures.ThreadPoolExecutor(
      max_workers=1, thread_name_prefix="tensorcoder-io") as io:
    stored = None  # (job, future) of the last job's store.

    def finish_stored() -> None:
      nonlocal stored
      if stored is None:
        return
      job, future = stored
      stored = None
      try:
        report(future.result())
        outcome.done += 1
      except Exception as error:  # pylint: disable=broad-except
        outcome.failed += 1
        fail(job, error)

    loading = io.submit(load, jobs[0]) if jobs else None
    try:
      for i, job in enumerate(jobs):
        current, loading = loading, (io.submit(load, jobs[i + 1])
                                     if i + 1 < len(jobs) else None)
        try:
          result = code(job, current.result())
        except Exception as error:  # pylint: disable=broad-except
          finish_stored()
          outcome.failed += 1
          fail(job, error)
          continue
        finish_stored()
        stored = (job, io.submit(store, job, result))
      finish_stored()
    except BaseException:
      io.shutdown(wait=True, cancel_futures=True)
      raise
  outcome.seconds = time.perf_counter() - start
  return outcome
