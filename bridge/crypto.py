"""Secrets at rest: Fernet encryption keyed from BRIDGE_SECRET_KEYS, with rotation.

Each configured secret is stretched with HKDF (own salt and label, so the encryption key is never
the signing key itsdangerous derives from the same secret) into one Fernet key. `MultiFernet`
encrypts with the newest and decrypts with any, so adding a key keeps old rows readable and
`rotate` (the `stitch-bridge rotate-keys` command) moves them to the newest key.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HKDF_SALT = b"stitch-bridge.secret-box.v1"
HKDF_INFO = b"stitch-bridge fernet key for secrets at rest"


class SecretUnreadable(Exception):
    """A stored secret no configured key opens (a key was removed too early, or tampering)."""


def fernet_key(secret: str) -> bytes:
    """The Fernet key (URL-safe base64 of 32 bytes) derived from one configured secret."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Encrypts short secrets (access tokens, PKCE verifiers) for the database."""

    def __init__(self, secret_keys: tuple[str, ...]) -> None:
        if not secret_keys:
            raise ValueError("SecretBox needs at least one secret key")
        # Newest first, as in BRIDGE_SECRET_KEYS: MultiFernet encrypts with its first key.
        self._fernets = [Fernet(fernet_key(secret)) for secret in secret_keys]
        self._multi = MultiFernet(self._fernets)

    def __repr__(self) -> str:
        return f"SecretBox(keys={len(self._fernets)})"

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._multi.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable("no configured secret key opens this value") from None

    def is_current(self, ciphertext: str) -> bool:
        """Whether the newest key already encrypts this value (rotation can skip it)."""
        try:
            self._fernets[0].decrypt(ciphertext.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def rotate(self, ciphertext: str) -> str:
        """The same plaintext, encrypted with the newest key."""
        try:
            return self._multi.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable("no configured secret key opens this value") from None
