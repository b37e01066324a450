"""Helpers for the recovery tests: the CLI run as an unprivileged user, a dataset on a small real disk.

Permissions only fail for a process that does not bypass them: as root (CI containers), the CLI is
run as `nobody` through setpriv; as another user, it runs as that user. A full disk is a real tmpfs
of a few hundred KiB, mounted in a private mount namespace (`unshare -m`, or `unshare -Urm` without
root) so nothing leaks out of the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers_pipeline import REPO, cli_command, cli_env

NOBODY = 65534


def unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop privileges to test permissions")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def shared_workdir() -> Path:
    """A folder the unprivileged user can write (pytest's tmp_path is private to its owner)."""
    root = Path(tempfile.mkdtemp(prefix="article-lake-recovery-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        os.chown(root, NOBODY, NOBODY)
    return root


def run_unprivileged(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = cli_env() | {"HOME": str(home)}
    return subprocess.run(unprivileged_prefix() + cli_command(*args), cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def json_events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def mount_namespace_prefix() -> list[str]:
    """A command prefix giving a private mount namespace where tmpfs can be mounted; skip if none."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare not found: cannot make a small real disk")
    for prefix in (["unshare", "-m"], ["unshare", "-Urm"]):
        probe = subprocess.run(prefix + ["sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d"],
                               capture_output=True)
        if probe.returncode == 0:
            return prefix
    pytest.skip("no permission to mount a tmpfs, even in a user namespace")
