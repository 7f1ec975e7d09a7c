"""Password hashing for server operators: argon2 (argon2-cffi), never plaintext.

The configuration holds only argon2 hashes (``ircish-server --hash-password``
makes one). Verifying a hash is deliberately slow (tens of milliseconds and
megabytes of memory), so the chat core runs ``verify_password`` off the event
loop (``Chat.offload``); everything here is pure and safe to call from a
worker thread.
"""

from __future__ import annotations

import functools
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Argon2 hashes in the PHC string format start with one of these.
_PREFIXES = ("$argon2id$", "$argon2i$", "$argon2d$")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` with argon2-cffi's recommended parameters."""
    return argon2.PasswordHasher().hash(password)


def is_argon2_hash(value: str) -> bool:
    """Whether ``value`` is a well-formed argon2 hash (and so not a plaintext password)."""
    if not value.startswith(_PREFIXES):
        return False
    try:
        argon2.extract_parameters(value)
    except (InvalidHashError, ValueError):
        return False
    return True


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; any malformed input is a mismatch."""
    try:
        return argon2.PasswordHasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
        return False


@functools.lru_cache(maxsize=8)
def decoy_hash(like: str) -> str:
    """A hash of a random password, made with the same parameters as the hash ``like``.

    Checking a guess for an unknown operator name against it costs what
    checking a known name costs, so the time of a reply does not tell which
    names exist.
    """
    params = argon2.extract_parameters(like)
    return argon2.PasswordHasher.from_parameters(params).hash(secrets.token_hex(16))
