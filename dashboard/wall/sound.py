"""The wall's alarm chime: a short two-tone WAV made here, so nothing is fetched."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import lru_cache

RATE = 22050


@lru_cache(maxsize=1)
def chime() -> bytes:
    """Two rising tones (660 Hz, 880 Hz), 0.35 s each with soft edges, mono 16-bit."""
    frames = bytearray()
    for freq in (660.0, 880.0, 660.0, 880.0):
        n = int(RATE * 0.35)
        for i in range(n):
            edge = min(1.0, i / (0.02 * RATE), (n - i) / (0.05 * RATE))
            frames += struct.pack("<h", int(0.6 * 32767 * edge * math.sin(2 * math.pi * freq * i / RATE)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()
