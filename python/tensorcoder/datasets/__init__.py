"""Data sets (TFC's ``tensorflow_compression.python.datasets``)."""

from tensorcoder.datasets.y4m_dataset import Y4MDataset

__all__ = ["Y4MDataset"]
