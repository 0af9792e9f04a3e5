"""Utilities (TFC's ``tensorflow_compression.python.util``)."""

from tensorcoder.util.packed_tensors import PackedTensors

__all__ = ["PackedTensors"]
