"""Errors the converter raises: each names the operator and tensor it could not handle."""


class ConversionError(Exception):
    """The TFLite model uses something this converter does not translate."""


class UnsupportedOperatorError(ConversionError):
    def __init__(self, opcode: str, op_index: int, tensor: str):
        super().__init__(f"unsupported TFLite operator {opcode} (operator #{op_index}, producing {tensor})")
        self.opcode = opcode
        self.op_index = op_index
        self.tensor = tensor
