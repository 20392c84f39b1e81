"""The organisation's Ed25519 key: it signs checkpoints and exports; landlords hold the public half.

The private key never enters the database: it is read from a PEM file (`SUIVI_AUDIT_KEY_FILE`)
or from the environment (`SUIVI_AUDIT_KEY`, the PEM text). Someone who can rewrite the database
but has not the key cannot produce a signature that verifies.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from processes.errors import InvalidPayload

KEY_FILE_VARIABLE = "SUIVI_AUDIT_KEY_FILE"
KEY_VARIABLE = "SUIVI_AUDIT_KEY"


class MissingKey(InvalidPayload):
    code = "missing_audit_key"


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def public_pem(self) -> str:
        return public_pem(self.private.public_key())

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key: names a key in a file."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidPayload("la clé publique n'est pas une clé Ed25519")
    return key


def verify(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def new_private_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def signer_from(environ: Mapping[str, str] | None = None) -> Signer:
    """The signing key from the environment, or a refusal saying how to provide one."""
    env = os.environ if environ is None else environ
    text = env.get(KEY_VARIABLE)
    path = env.get(KEY_FILE_VARIABLE)
    if not text and path:
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise MissingKey(
                f"clé de signature illisible ({KEY_FILE_VARIABLE}={path}) : {error.strerror}"
            ) from None
    if not text:
        raise MissingKey(
            f"aucune clé de signature : définissez {KEY_FILE_VARIABLE} (fichier PEM) ou "
            f"{KEY_VARIABLE} ; `suivi audit keygen FICHIER` en crée une"
        )
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError:
        raise MissingKey("la clé de signature n'est pas une clé privée PEM lisible") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise MissingKey("la clé de signature doit être une clé Ed25519")
    return Signer(key)
