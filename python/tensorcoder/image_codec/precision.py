"""The precision the codec's transforms compute in on this CPU.

A model trained with its transforms in bfloat16 (``mixed_bfloat16``, such
as the default model) is fastest so on CPUs with bfloat16 instructions
(AVX512-BF16 or AMX), where TensorFlow's oneDNN kernels run its
convolutions. Elsewhere bfloat16 is the slow choice: on a CPU without them
TensorFlow computes bfloat16 convolutions in its generic kernels, or has
oneDNN emulate them. Measured on 2026-12-08 for the default model (768x512
image, 2 cores, bench/RESULTS.md): decoding took 4.3 s in bfloat16 against
0.47 s in float32 with the generic kernels (what TensorFlow uses on an
AVX2 CPU), and 0.75 s against 0.32 s with oneDNN held to AVX-512 without
BF16; later that day on an AVX2 CPU itself (AMD EPYC without AVX-512),
5.5 s against 0.48 s (0.57–0.59 s before the synthesis upsampled by
phases, layers/polyphase.py).

So where the model's own precision is bfloat16 and the CPU lacks those
instructions, the codec computes in float32 (:func:`coding_precision`).
This changes no byte's meaning: a file compressed in one precision decodes
in the other, to pixels that differ by a rounding step of the transforms
(0.34–0.37 of a level on average on the golden files, PSNR within 0.02
dB).
``--precision`` (``precision=`` in ``tensorcoder.image_codec.codec``)
overrides the choice.

Reads only ``/proc/cpuinfo`` (Linux) and the environment; needs no
TensorFlow. Where the flags cannot be read, bfloat16 counts as not native.
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping, Optional

# CPU flags (as Linux's /proc/cpuinfo names them) of the instructions with
# which oneDNN computes bfloat16 convolutions natively.
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")

# Values of ONEDNN_MAX_CPU_ISA that hold oneDNN below those instructions
# (its ISA names, in capitals).
_ISAS_WITHOUT_BFLOAT16 = frozenset({
    "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE",
    "AVX512_CORE_VNNI"})

# The dtype policies the transforms may compute in.
BFLOAT16 = "mixed_bfloat16"
FLOAT32 = "float32"


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset[str]:
  """The flags of the first processor listed in ``path`` (Linux's
  /proc/cpuinfo format), or an empty set where it cannot be read."""
  try:
    with open(path, encoding="ascii", errors="replace") as file:
      for line in file:
        key, _, value = line.partition(":")
        if key.strip() == "flags":
          return frozenset(value.split())
  except OSError:
    pass
  return frozenset()


def _off(value: str) -> bool:
  return value.strip().lower() in ("0", "false")


def native_bfloat16(flags: Optional[Iterable[str]] = None,
                    environ: Optional[Mapping[str, str]] = None) -> bool:
  """Whether TensorFlow computes bfloat16 convolutions here with native
  instructions: the CPU has one of ``NATIVE_BFLOAT16_FLAGS`` (``flags``;
  None reads :func:`cpu_flags`) and the environment (``environ``; None:
  ``os.environ``) neither turns oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``)
  nor holds it to an instruction set without them
  (``ONEDNN_MAX_CPU_ISA=AVX2``, ``AVX512_CORE``, ...)."""
  flags = cpu_flags() if flags is None else frozenset(flags)
  environ = os.environ if environ is None else environ
  if _off(environ.get("TF_ENABLE_ONEDNN_OPTS", "")):
    return False
  if environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper() in (
      _ISAS_WITHOUT_BFLOAT16):
    return False
  return any(flag in flags for flag in NATIVE_BFLOAT16_FLAGS)


def coding_precision(model_precision: str,
                     flags: Optional[Iterable[str]] = None,
                     environ: Optional[Mapping[str, str]] = None) -> str:
  """The dtype policy a model whose transforms were saved in
  ``model_precision`` computes in when no precision is asked for: its own,
  except bfloat16 where it is not native (:func:`native_bfloat16`), which
  becomes float32."""
  if model_precision == BFLOAT16 and not native_bfloat16(flags, environ):
    return FLOAT32
  return model_precision
