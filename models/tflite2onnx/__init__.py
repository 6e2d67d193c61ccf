"""codeclab's own TFLite → ONNX converter for the attention-center and Lyra v2 models."""

from .convert import CONVERTER_VERSION, ConvertedModel, convert
from .errors import ConversionError, UnsupportedOperatorError

__all__ = ["CONVERTER_VERSION", "ConvertedModel", "ConversionError", "UnsupportedOperatorError", "convert"]
