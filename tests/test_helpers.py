"""The small shared modules: SHA-256 fingerprints, progress reports."""

from __future__ import annotations

import hashlib

from coverage.digests import file_sha256, text_sha256
from coverage.progress import reporter


def test_fingerprints(tmp_path):
    data = bytes(range(256)) * 9000  # more than one 1 MiB block
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert text_sha256("Kŭlob") == hashlib.sha256("Kŭlob".encode()).hexdigest()
    assert text_sha256("Kŭlob", chars=16) == text_sha256("Kŭlob")[:16]


def test_a_reporter_forwards_messages_and_fractions():
    said: list[str] = []
    report = reporter(said.append, stage="data step")
    report("reading the mirror", 0.05)
    report("done", 1.7)  # clipped
    report("plain message")
    assert said == ["data step 5%: reading the mirror", "data step 100%: done", "plain message"]
    reporter(None)("nobody listens", 0.5)  # no progress callable: nothing happens
    plain: list[str] = []
    reporter(plain.append)("halfway", 0.5)
    assert plain == ["50%: halfway"]
