"""A stand-in source format for the tests: the 'package' holds the HF folder under `hf/`; converting copies it out.

A module of its own (standard library only), because converters run in the exporter environment: the job names
this module and the exporter imports it there, as it would a contributed converter's module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gallery.runtime.converters import register


@register("test-copy")
def copy_converter(src: Path, dst: Path) -> None:
    """Copy the Hugging Face folder `hf/` out of the source."""
    shutil.copytree(src / "hf", dst)
