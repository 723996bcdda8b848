"""A scenario ``name`` names its result folders (``results/<name>/<hash>``), so it must be one plain
folder name: never a path, never empty, ``.`` or ``..``, no control characters, at most
255 bytes of UTF-8 (the limit of common file systems)."""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 255


def check_folder_name(name: str) -> None:
    """Raise ValueError saying why ``name`` is not a plain folder name; return if it is."""
    if name in ("", ".", ".."):
        raise ValueError(f"{name!r} is not a folder name; a name must be a plain folder name like 'busy-gateway'")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("the name is not valid Unicode text (a lone surrogate escape)") from None
    if size > MAX_NAME_BYTES:
        raise ValueError(f"the name is {size} bytes of UTF-8; a folder name has at most {MAX_NAME_BYTES}")
    for char in name:
        if char in "/\\":
            raise ValueError(f"the name contains {char!r}: it names one folder under results/, not a path")
        if unicodedata.category(char) == "Cc":
            raise ValueError(f"the name contains the control character U+{ord(char):04X}")
