"""Resident memory of this process: what models cost once loaded, and giving freed memory back."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_FRACTION = 0.5  # of physical RAM, when `--memory-budget` is not given


def rss_bytes() -> int:
    """Return this process's resident set size."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def default_budget() -> int:
    """Return the default memory budget for loaded models: a fraction of physical RAM."""
    import psutil

    return int(psutil.virtual_memory().total * DEFAULT_BUDGET_FRACTION)


def release() -> None:
    """Collect garbage and ask glibc to return free heap pages, so RSS really drops after an unload."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (musl, macOS): the memory is reused by the process instead of returned


def parse_size(text: str) -> int:
    """Parse a size such as `4G`, `512M`, `1.5GiB` or a plain byte count."""
    units = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
             "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}
    raw = text.strip().upper()
    number = raw.rstrip("KMGTIB")
    unit = raw[len(number):]
    if unit not in units or not number:
        raise ValueError(f"not a size: {text!r} (use e.g. 4G or 512M)")
    return int(float(number) * units[unit])
