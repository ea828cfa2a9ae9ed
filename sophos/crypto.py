"""Encryption of stored Sophos client secrets.

The key comes from ``PORTAL_ENCRYPTION_KEY`` (any string: it is hashed into
a Fernet key). Losing the key makes stored secrets unreadable; the
connections must then be saved again with their secrets.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from sophos.errors import SecretUnreadable


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.PORTAL_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(ciphertext: str) -> str:
    """Decrypt a stored secret.

    Raises ``SecretUnreadable`` when the configured key cannot decrypt it.
    """
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable() from None
