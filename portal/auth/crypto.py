"""Keys derived from the app secret, the TOTP seed cipher, token hashing and argon2id password hashing."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# OWASP / ASVS 5.0 appendix C: argon2id, m = 19 MiB, t = 2, p = 1 (security plan §8).
PASSWORD_HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
_CIPHER_PREFIX = "v1:"


def _derive(secret_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())


@dataclass(frozen=True)
class AuthKeys:
    """Purpose-bound keys, each derived from the app secret key with HKDF-SHA256."""

    totp_key: bytes
    mac_key: bytes

    @classmethod
    def from_secret(cls, secret_key: str) -> AuthKeys:
        """Derive the keys once per app."""
        return cls(
            totp_key=_derive(secret_key, b"ledenportaal/totp-seed/v1"),
            mac_key=_derive(secret_key, b"ledenportaal/code-mac/v1"),
        )

    def encrypt_seed(self, seed: str) -> str:
        """AES-256-GCM with a fresh nonce; what the database stores."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.totp_key).encrypt(nonce, seed.encode(), b"totp-seed")
        return _CIPHER_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt_seed(self, stored: str) -> str:
        """The seed back; raises if the ciphertext was altered or the key changed."""
        raw = base64.urlsafe_b64decode(stored.removeprefix(_CIPHER_PREFIX))
        return AESGCM(self.totp_key).decrypt(raw[:12], raw[12:], b"totp-seed").decode()

    def mac(self, *parts: str) -> str:
        """A keyed digest for short codes and names that must not be stored in the clear."""
        message = "\x1f".join(parts).encode()
        return hmac.new(self.mac_key, message, hashlib.sha256).hexdigest()


def new_token() -> tuple[str, str]:
    """A 256-bit random token for a cookie or link, and the SHA-256 digest the database keeps."""
    raw = secrets.token_urlsafe(32)
    return raw, token_digest(raw)


def token_digest(raw: str) -> str:
    """What the database stores for a token (a lookup key: the token itself has 256 bits)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id PHC string."""
    return PASSWORD_HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Compare exactly as typed (no trimming, no case folding)."""
    try:
        return PASSWORD_HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the stored hash uses weaker parameters or another algorithm than today's."""
    try:
        return PASSWORD_HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


def spend_equal_time(password: str) -> None:
    """Verify against a throw-away hash so an unknown name costs as much time as a wrong password."""
    verify_password(_dummy_hash(), password)
