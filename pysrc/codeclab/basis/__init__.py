"""codeclab.basis: Basis Universal textures (KTX2 and .basis).

Parsers for both containers with every field checked (``ktx2``, ``basisfile``; errors name the
field and byte offset), GPU byte sizes per transcode target (``formats``), and the
KTX2Loader-style choice of target from a WebGL2 context's extensions (``targets``: the GPU format
choice). ``service`` is what the page calls. Pure Python: runs unchanged in Pyodide.
"""

from __future__ import annotations

from .errors import BasisError, BasisFormatError, BasisUnsupportedError

__all__ = ["BasisError", "BasisFormatError", "BasisUnsupportedError"]
