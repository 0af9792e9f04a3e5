"""tensorcoder: learned-compression entropy coding without TensorFlow.

The range coder, run-length coders and CDF construction live in the C++ core
and are exposed to Python, numpy in and bytes out, by `tensorcoder.coder`.
Importing this package imports neither TensorFlow nor the C++ extension.
"""

__version__ = "0.1.0"
