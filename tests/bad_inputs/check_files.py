"""Check many files in one warm interpreter, each in its own child process.

Run as ``python tests/bad_inputs/check_files.py FILE ...``: imports the package once,
then for each file forks two children, each reaped with ``os.wait4`` (whose resource
usage is that child's alone):

``cli``
    runs the ``coverage`` package as ``__main__`` with ``check-services FILE``, exactly
    what ``python -m coverage check-services FILE`` runs;
``upload``
    reads the file and calls ``uploads.check_upload``, the one call the staff page
    makes for an uploaded file (with the bytes in memory, as Streamlit holds them).

Prints one JSON object: file → mode → ``returncode``, ``output`` (stdout + stderr) and
``maxrss_kb`` (the child's peak resident memory, KiB; it includes the pages it shares
with this warm parent, so it over-states what the check itself costs). An uncaught
exception in a child prints its traceback exactly as ``python -m`` would.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import tempfile
import traceback


def _cli(path: str) -> None:
    sys.argv = ["python -m coverage", "check-services", path]
    runpy.run_module("coverage", run_name="__main__", alter_sys=True)


def _upload(path: str) -> None:
    from pathlib import Path

    from coverage.errors import ServicesError
    from coverage.registry import uploads

    try:
        uploads.check_upload(Path(path).read_bytes(), Path(path).name, existing_ids=())
    except ServicesError as err:
        print(err)
        sys.exit(1)


def check(path: str, mode: str) -> dict[str, object]:
    with tempfile.TemporaryFile() as out:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: python -m coverage check-services PATH
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            code = 1
            try:
                (_cli if mode == "cli" else _upload)(path)
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except BaseException:  # noqa: BLE001 - printed as the interpreter would
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status, usage = os.wait4(pid, 0)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return {"returncode": os.waitstatus_to_exitcode(status), "output": text, "maxrss_kb": usage.ru_maxrss}


def main(paths: list[str]) -> int:
    import coverage.cli  # noqa: F401 - imported once, before the first fork
    import coverage.registry.uploads  # noqa: F401

    results = {path: {mode: check(path, mode) for mode in ("cli", "upload")} for path in paths}
    sys.stdout.write(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
