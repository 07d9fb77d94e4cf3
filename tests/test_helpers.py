"""The small shared modules: SHA-256 fingerprints."""

from __future__ import annotations

import hashlib

from coverage.digests import file_sha256, text_sha256


def test_fingerprints(tmp_path):
    data = bytes(range(256)) * 9000  # more than one 1 MiB block
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert text_sha256("Kŭlob") == hashlib.sha256("Kŭlob".encode()).hexdigest()
    assert text_sha256("Kŭlob", chars=16) == text_sha256("Kŭlob")[:16]
