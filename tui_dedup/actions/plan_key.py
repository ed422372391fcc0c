"""A keyed digest of a plan file, so apply can tell the user a plan was edited.

Why only a warning: apply re-derives and re-checks every step whatever the plan says, so an
edited plan can never do more than a fresh one would. The signature just tells a person that
the file is not exactly what this user's ``dedup-tui plan`` wrote (edited by hand, or made by
another user or under sudo, whose state dir holds another key).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets

from .state import state_dir

KEY_FILE = "plan.key"


def _key(create: bool) -> bytes | None:
    path = os.path.join(state_dir(), KEY_FILE)
    try:
        with open(path, "rb") as f:
            key = f.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    if not create:
        return None
    key = secrets.token_bytes(32)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        return key
    return _key(create=False)


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def sign(body: dict) -> str | None:
    """HMAC-SHA256 of the plan body (without its ``mac``) with this user's key."""
    try:
        key = _key(create=True)
    except OSError:
        return None
    if key is None:
        return None
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def verify(body: dict, mac: str | None) -> bool:
    """True when ``mac`` is this user's signature of exactly ``body``."""
    try:
        key = _key(create=False)
    except OSError:
        return False
    if key is None or not mac:
        return False
    want = hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, mac)
