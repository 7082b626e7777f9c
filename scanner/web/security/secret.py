"""The server's signing key: generated on first run, kept in the data dir readable by us only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from scanner.filemodes import private_dir

SECRET_FILE = "web-secret.key"


def load_or_create_secret(data_dir: Path) -> bytes:
    path = Path(data_dir) / SECRET_FILE
    private_dir(path.parent)
    try:
        # O_EXCL: two workers starting at once must not both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise ValueError(f"{path}: secret key is too short; delete it to generate a new one") from None
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return key
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
