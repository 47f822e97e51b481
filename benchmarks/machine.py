"""Where the figures come from: the machine, the posim measured, its bytecode."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """The machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("posim", "simpy", "ciw"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def compile_bytecode() -> dict[str, Any]:
    """Compile posim's modules to bytecode first, as an installed package has them.

    Python writes ``__pycache__`` on first import, unless
    ``PYTHONDONTWRITEBYTECODE`` is set (as in some sandboxes and containers):
    then every ``posim`` command and every spawned worker would compile posim
    from source (~25 ms each) and the start-up and ``--jobs`` figures would
    measure the compiler.  Compiling here does not depend on that variable.
    """
    import compileall

    import posim

    package = Path(posim.__file__).resolve().parent
    ok = compileall.compile_dir(str(package), quiet=1)
    return {
        "compiled": bool(ok),
        "package": str(package),
        "dont_write_bytecode_env": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
    }


def source() -> dict[str, Any]:
    """Which posim is measured: its path, the git commit and whether the tree is dirty."""
    import posim

    where = Path(posim.__file__).resolve().parent.parent
    info: dict[str, Any] = {"path": str(where)}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "posim"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info.update(commit=commit, engine_dirty=bool(dirty))
    except (OSError, subprocess.CalledProcessError):
        info.update(commit=None, engine_dirty=None)
    return info
