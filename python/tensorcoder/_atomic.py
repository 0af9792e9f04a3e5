"""Atomic file output: a file appears under its name only once complete."""

from __future__ import annotations

import errno
import os
import tempfile
from typing import BinaryIO, Callable


def write_atomically(path: str | os.PathLike,
                     write: Callable[[BinaryIO], None]) -> None:
  """Calls ``write`` on a temporary file beside ``path``, then renames it to
  ``path``. On any error the temporary file is removed and ``path`` is left
  as it was, so a failed command never leaves a partial output.

  Raises:
    OSError: when ``path`` cannot be written; the message names ``path``
      (not the temporary file).
    Whatever ``write`` raises.
  """
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  try:
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
  except OSError as error:
    raise _naming(path, error) from error
  try:
    with os.fdopen(descriptor, "wb") as f:
      write(f)
    _permissions_of_open(temporary)
    os.replace(temporary, path)
  except OSError as error:
    raise _naming(path, error) from error
  finally:
    if os.path.exists(temporary):
      os.remove(temporary)


def save_model_atomically(model, path: str | os.PathLike) -> None:
  """``model.save(path)`` for a Keras ``.keras`` file, through a temporary
  ``.keras`` file beside ``path`` that is renamed into place only once
  complete (removed on any error)."""
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  try:
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".keras")
    os.close(descriptor)
  except OSError as error:
    raise _naming(path, error) from error
  try:
    model.save(temporary, overwrite=True)
    _permissions_of_open(temporary)
    os.replace(temporary, path)
  except OSError as error:
    raise _naming(path, error) from error
  finally:
    if os.path.exists(temporary):
      os.remove(temporary)


def _permissions_of_open(path: str) -> None:
  """Gives ``path`` (a ``mkstemp`` file, 0600) the permissions ``open()``
  would have created it with: 0666 less the umask."""
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(path, 0o666 & ~umask)


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
  """Writes ``data`` to ``path`` with :func:`write_atomically`."""
  write_atomically(path, lambda f: f.write(data))


def check_writable(path: str | os.PathLike) -> None:
  """Fails early, before any long computation, when ``path`` clearly cannot
  be written: its folder is missing or read-only, or it is a folder.
  (:func:`write_atomically` remains the authority.)

  Raises:
    OSError: naming ``path`` and the reason.
  """
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  if os.path.isdir(path):
    reason = (errno.EISDIR, "it is a folder")
  elif os.path.exists(directory) and not os.path.isdir(directory):
    reason = (errno.ENOTDIR, f"{directory} is not a folder")
  elif not os.path.isdir(directory):
    reason = (errno.ENOENT, f"the folder {directory} does not exist")
  elif not os.access(directory, os.W_OK | os.X_OK):
    reason = (errno.EACCES, f"the folder {directory} is not writable")
  else:
    return
  raise OSError(reason[0], f"cannot write {path}: {reason[1]}")


def _naming(path: str, error: OSError) -> OSError:
  reason = error.strerror or str(error)
  return OSError(error.errno, f"cannot write {path}: {reason}")
