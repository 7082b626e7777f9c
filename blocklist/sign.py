"""Integrity of feed artefacts: SHA-256 and a detached Ed25519 signature (base64).

The signing key is generated on first use under ``<data_dir>/keys/feed-ed25519.pem`` (mode 0600);
banks fetch the public key once from ``/feed/v1/public-key`` and verify every download offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = Path("keys") / "feed-ed25519.pem"
PUBLIC_KEY_FILE = Path("keys") / "feed-ed25519.pub.pem"
_lock = threading.Lock()


class SigningError(ValueError):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private_key.sign(data)).decode("ascii")

    @property
    def public_key_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    # link() refuses to overwrite: a key another process created meanwhile wins, ours is dropped
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def load_signer(data_dir: Path) -> Signer:
    """The feed signing key, created (0600) on first use."""
    path = Path(data_dir) / KEY_FILE
    with _lock:
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_private(path, pem)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningError(f"{path}: not a PEM Ed25519 private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningError(f"{path}: not an Ed25519 key")
        signer = Signer(key)
        public_path = Path(data_dir) / PUBLIC_KEY_FILE
        if not public_path.exists():
            public_path.write_bytes(signer.public_key_pem)
        return signer


def load_public_key(pem: bytes, source: str = "public key") -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{source}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{source}: not an Ed25519 public key")
    return key


def verify(file_bytes: bytes, signature: str | bytes, public_key: bytes | Ed25519PublicKey) -> bool:
    """True when ``signature`` (base64) is the publisher's signature of exactly ``file_bytes``."""
    key = load_public_key(public_key) if isinstance(public_key, bytes) else public_key
    try:
        raw = base64.b64decode(signature.strip() if isinstance(signature, bytes) else signature.strip(), validate=True)
        key.verify(raw, file_bytes)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
