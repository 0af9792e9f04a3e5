"""Tests of the choice of the transforms' precision (no TensorFlow)."""

import sys

import pytest

from tensorcoder.image_codec import precision

# The flags lines of three real CPUs, shortened.
ZEN4 = ("fpu sse2 avx avx2 fma avx512f avx512bw avx512vl avx512_bf16 "
        "avx512_vnni").split()
SAPPHIRE_RAPIDS = "avx2 avx512f avx512_bf16 amx_bf16 amx_tile".split()
SKYLAKE_SERVER = "avx2 fma avx512f avx512bw avx512vl avx512_vnni".split()
HASWELL = "sse4_2 avx avx2 fma".split()


def test_cpu_flags_are_read_from_the_first_processor(tmp_path):
  cpuinfo = tmp_path / "cpuinfo"
  cpuinfo.write_text(
      "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
      "flags\t\t: fpu avx2 avx512_bf16\nbugs\t\t: sysret_ss_attrs\n\n"
      "processor\t: 1\nflags\t\t: fpu\n")
  assert precision.cpu_flags(str(cpuinfo)) == {"fpu", "avx2", "avx512_bf16"}


def test_cpu_flags_that_cannot_be_read_are_none(tmp_path):
  assert precision.cpu_flags(str(tmp_path / "missing")) == frozenset()
  # An ARM /proc/cpuinfo says "Features", not "flags".
  arm = tmp_path / "arm"
  arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n")
  assert precision.cpu_flags(str(arm)) == frozenset()


@pytest.mark.parametrize("flags, native", [
    (ZEN4, True), (SAPPHIRE_RAPIDS, True), (SKYLAKE_SERVER, False),
    (HASWELL, False), ((), False)])
def test_bfloat16_is_native_with_avx512_bf16_or_amx(flags, native):
  assert precision.native_bfloat16(flags, environ={}) is native


@pytest.mark.parametrize("environ, native", [
    ({"TF_ENABLE_ONEDNN_OPTS": "0"}, False),
    ({"TF_ENABLE_ONEDNN_OPTS": "False"}, False),
    ({"TF_ENABLE_ONEDNN_OPTS": "1"}, True),
    ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, False),
    ({"ONEDNN_MAX_CPU_ISA": "avx512_core"}, False),
    ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, True),
    ({"ONEDNN_MAX_CPU_ISA": "ALL"}, True),
])
def test_the_environment_can_hold_onednn_below_bfloat16(environ, native):
  assert precision.native_bfloat16(ZEN4, environ) is native


def test_coding_precision_falls_back_to_float32_only_for_bfloat16():
  assert precision.coding_precision("mixed_bfloat16", ZEN4, {}) == (
      "mixed_bfloat16")
  assert precision.coding_precision("mixed_bfloat16", HASWELL, {}) == (
      "float32")
  assert precision.coding_precision("mixed_bfloat16", ZEN4, {
      "TF_ENABLE_ONEDNN_OPTS": "0"}) == "float32"
  for flags in (ZEN4, HASWELL):
    assert precision.coding_precision("float32", flags, {}) == "float32"


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
