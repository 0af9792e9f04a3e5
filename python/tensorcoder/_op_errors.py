"""The text of TensorFlow's op errors, as a person should read it."""

from __future__ import annotations

import re

# TensorFlow wraps a kernel's message in the names of the graph function
# and node that raised it ("{{function_node __wrapped__EntropyModelDecode_
# device_/job:localhost/replica:0/task:0/device:CPU:0}}") and appends the
# op (" [Op:EntropyModelDecode]"): internals, not what is wrong.
_TAG = re.compile(r"\{\{(?:function_)?node [^{}]*\}\}\s*")
_OP = re.compile(r"\s*\[Op:[^\]]*\]")


def text(error) -> str:
  """The first line of a ``tf.errors.OpError``'s message (or of
  ``str(error)`` for anything else), without TensorFlow's ``{{node ...}}``
  and ``{{function_node ...}}`` tags and ``[Op:...]`` suffix; what the
  kernel said is kept word for word."""
  message = getattr(error, "message", None)
  if not isinstance(message, str):
    message = str(error)
  first = message.split("\n", 1)[0]
  return _OP.sub("", _TAG.sub("", first)).strip()
