"""codeclab: Google's perceptual compression research, runnable in the browser.

One subpackage per tool (attention, jxl, lyra, basis) plus shared pieces
(errors, imaging, onnx_bridge, browser).  Everything except
``codeclab.browser`` is plain Python + numpy and runs unchanged in CPython
and in Pyodide.
"""

__version__ = "0.1.0"
