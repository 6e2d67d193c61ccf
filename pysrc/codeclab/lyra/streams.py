"""The page's open encoder and decoder streams, held by integer id (``codeclab.lyra.service``).

A stream is the model-free codec session (``EncoderSession`` / ``DecoderSession``), its model's
stream once the first request brings a runner (``StatefulModel``: the page's runner keeps the
model state on its side), and a lock, so that the model steps of one stream never interleave
when an event loop runs two requests of it at once (the page's worker drives one at a time).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .decoder import DecoderSession
from .encoder import EncoderSession
from .errors import LyraError
from .models import DECODER_MODEL, ENCODER_MODEL, StatefulModel


@dataclass(eq=False, kw_only=True)
class _Stream:
    MODEL: ClassVar[str]
    KIND: ClassVar[str]

    state_init: dict[str, np.ndarray] | None = None
    model: StatefulModel | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def model_on(self, runner) -> StatefulModel:
        """The stream's model, started on ``runner`` by the stream's first request."""
        if self.model is None:
            self.model = StatefulModel(runner, self.MODEL, self.state_init)
        return self.model


@dataclass(eq=False)
class EncoderStream(_Stream):
    MODEL: ClassVar[str] = ENCODER_MODEL
    KIND: ClassVar[str] = "encoder"

    codec: EncoderSession


@dataclass(eq=False)
class DecoderStream(_Stream):
    MODEL: ClassVar[str] = DECODER_MODEL
    KIND: ClassVar[str] = "decoder"

    codec: DecoderSession


class Streams:
    """The open streams by id (ids are never reused)."""

    def __init__(self) -> None:
        self._open: dict[int, _Stream] = {}
        self._ids = itertools.count(1)

    def open_encoder(self, codec: EncoderSession, state_init) -> int:
        return self._add(EncoderStream(codec, state_init=state_init))

    def open_decoder(self, codec: DecoderSession, state_init) -> int:
        return self._add(DecoderStream(codec, state_init=state_init))

    def encoder(self, stream_id: int) -> EncoderStream:
        return self._get(stream_id, EncoderStream)

    def decoder(self, stream_id: int) -> DecoderStream:
        return self._get(stream_id, DecoderStream)

    def close(self, stream_id: int) -> bool:
        return self._open.pop(int(stream_id), None) is not None

    def _add(self, stream: _Stream) -> int:
        stream_id = next(self._ids)
        self._open[stream_id] = stream
        return stream_id

    def _get(self, stream_id, kind: type[_Stream]):
        stream = self._open.get(int(stream_id))
        if not isinstance(stream, kind):
            raise LyraError(f"no Lyra {kind.KIND} session {stream_id}")
        return stream
