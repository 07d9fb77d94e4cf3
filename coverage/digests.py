"""SHA-256 fingerprints: of a file's bytes (the data step's manifest, the routing
cache key) and of a text (cache keys, the lock-out key of a username)."""

from __future__ import annotations

import hashlib
import os

CHUNK_BYTES = 1 << 20  # files are read in 1 MiB blocks


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes (64 characters), read block by block."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str, *, chars: int = 64) -> str:
    """Hex SHA-256 of the UTF-8 text, its first ``chars`` characters (a shorter key
    where a collision only costs a recomputation)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:chars]


def bytes_sha256(data: bytes) -> str:
    """Hex SHA-256 of bytes in memory (an uploaded file), 64 characters."""
    return hashlib.sha256(data).hexdigest()
