"""Password hashing compatible with osu-web: bcrypt over the hex MD5 of the password.

bcrypt runs in a small dedicated thread pool (S-AUTH-2): the event loop never blocks on it,
and a login flood queues behind the pool instead of starving other requests. The pool size
bounds how many CPU-bound hashes run at once. bcrypt itself is imported by the first hash or
check, so an idle server does not hold it (issue 17).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

_COST_RE = re.compile(rb"^\$2[abxy]\$(\d\d)\$")


def password_md5(password: str) -> str:
    """The hex MD5 that osu! clients and osu-web hash passwords as."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


class PasswordHasher:
    """bcrypt(md5(password)) off the event loop, with osu-web's `$2y$` hashes readable."""

    def __init__(self, rounds: int, workers: int = 2) -> None:
        self._rounds = rounds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        # Checked against for unknown users, so "no such user" costs the same as a wrong
        # password (S-AUTH-5). Any well-formed hash of the configured cost does: checkpw
        # spends the cost before it compares. An all-zero salt and digest ("." in bcrypt's
        # base64) needs no bcrypt call at start-up.
        self._dummy = b"$2b$%02d$" % rounds + b"." * 53

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str) -> str:
        """A new bcrypt hash of the password's MD5."""
        import bcrypt

        md5 = password_md5(password).encode()
        loop = asyncio.get_running_loop()
        hashed = await loop.run_in_executor(
            self._pool, lambda: bcrypt.hashpw(md5, bcrypt.gensalt(self._rounds))
        )
        return hashed.decode()

    async def verify(self, password: str, stored_hash: str | None) -> bool:
        """Whether the password matches; with no stored hash, spend the same time and fail."""
        import bcrypt

        md5 = password_md5(password).encode()
        target = stored_hash.encode() if stored_hash else self._dummy
        if not _COST_RE.match(target):
            target = self._dummy
            stored_hash = None
        loop = asyncio.get_running_loop()
        matched = await loop.run_in_executor(self._pool, bcrypt.checkpw, md5, target)
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether a hash was made with another cost than the configured one."""
        match = _COST_RE.match(stored_hash.encode())
        return match is None or int(match.group(1)) != self._rounds
