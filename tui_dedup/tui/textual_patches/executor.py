"""Patch ``executor``: a finished thread worker keeps nothing alive.

Upstream behaviour (Textual 8.2): ``Worker._run_threaded`` runs a thread worker with
``loop.run_in_executor(None, ...)``, which does not copy a context, and sets the module's
``active_worker`` context variable in the pool thread's own context without ever resetting it.
So each pool thread kept the last Worker it ran alive, and with it the worker's node and
arguments (a review screen, a session, the whole scan result) and its return value (the scan
worker returns the result), until that thread happened to run another worker: a rescan could
keep the old result in memory indefinitely (see ``tui_dedup.tui.gc_policy``, which frees the
old result after a rescan and relies on this).

The fix: the running loop's default executor becomes a :class:`FreshContextExecutor`, a thread
pool that runs every job in a new, empty ``contextvars.Context``, so the variable goes away with
the job. Nothing is lost: a pool thread's context started empty anyway, and a job must not depend
on what an earlier job left in it. Off: the loop keeps asyncio's default executor.

Private names touched: none by name. What it relies on is how ``Worker._run_threaded`` runs
its work (the loop's default executor, ``textual.worker.active_worker`` set in the pool thread).

Checked against textual>=8.2.8,<8.3.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from concurrent.futures import Future, ThreadPoolExecutor

PATCH = "executor"


class FreshContextExecutor(ThreadPoolExecutor):
    """A thread pool that runs every job in a new, empty ``contextvars.Context``."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        return super().submit(contextvars.Context().run, fn, *args, **kwargs)


_installed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def install_fresh_context_executor() -> None:
    """Make the running loop's default executor a :class:`FreshContextExecutor`, once per loop.

    ``asyncio.run`` shuts the default executor down when the loop ends, as it would its own.
    """
    loop = asyncio.get_running_loop()
    if loop not in _installed:
        loop.set_default_executor(FreshContextExecutor(thread_name_prefix="dedup-tui-worker"))
        _installed.add(loop)
