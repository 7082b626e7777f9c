"""Owner-only files and directories, whatever the process umask.

The data dir holds evidence (WARC files), the database, the web session secret, the feed signing
key and evidence bundles: nobody but the service account may read them. A directory we create is
0700 and a file we create is 0600, set explicitly (a umask can only remove bits, and a umask of
0o000 outside systemd left them world-readable). Existing paths keep the modes an operator gave them.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path | str) -> Path:
    """``path`` as a directory, creating it and any missing parents with mode 0700."""
    path = Path(path)
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process was quicker; it used the same mode
            continue
        os.chmod(directory, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(path))
    return path


def open_private(path: Path | str, flags: int) -> int:
    """``os.open(path, flags | O_CREAT)``; a file this call creates gets mode 0600."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if flags & os.O_EXCL:
            raise
        return os.open(path, flags & ~os.O_CREAT)
    os.fchmod(fd, FILE_MODE)
    return fd


def private_file(path: Path | str) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist (before a library opens it)."""
    path = Path(path)
    private_dir(path.parent)
    os.close(open_private(path, os.O_WRONLY))
    return path
