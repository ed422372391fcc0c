"""Orchestrate discover → (cache | decode + features) → FeatureStore, with progress.

Synchronous and UI-agnostic: the CLI calls :func:`scan` directly, the TUI from one thread
worker. Decoding runs on a thread pool (OpenCV and hashlib release the GIL); more threads than
cores so that reading from a slow mount overlaps decoding. Submission is bounded, so memory
holds only the files in flight (small arrays), never the decoded tree. After ``should_stop``
turns true no new file starts; what finished is kept and returned.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from tui_dedup.engine.features.columns import extract
from tui_dedup.engine.features.hashes import crop_features, to_gray
from tui_dedup.engine.features.store import FeatureRow, FeatureStore, StoreBuilder, with_sharpness
from tui_dedup.engine.files.decode import (
    DecodeLimits,
    decode_data,
    input_edge,
    pillow_pixel_limit,
    read_input,
)
from tui_dedup.engine.files.digest import digest_and_edge_path, edge_digest_file
from tui_dedup.engine.files.discover import (
    RAW_EXTENSIONS,
    DiscoverOptions,
    discover,
    normalise_roots,
)
from tui_dedup.engine.matching.pairs import HIST_ALL_PAIRS_LIMIT
from tui_dedup.engine.memory import opencv_threads, release_free_memory
from tui_dedup.engine.model import FileEntry, ScanError
from tui_dedup.engine.registry import DEFAULT_HASH_SIZE
from tui_dedup.engine.scan_progress import Progress, ScanProgress
from tui_dedup.engine.verdicts.twins import note_movies

CACHE_FLUSH_INTERVAL = 2.0  # seconds between cache commits, so a killed scan resumes


@dataclass(frozen=True, slots=True)
class ScanConfig:
    discover: DiscoverOptions = field(default_factory=DiscoverOptions)
    hash_size: int = DEFAULT_HASH_SIZE
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    workers: int = 0  # 0: two per core (reads overlap decodes)
    #: Keep the crop check's keypoints and thumbnail of each decoded file (~0.5 ms a file from
    #: the decode in hand, against a second decode of ~20 ms for a 12 MP JPEG when the crop
    #: stage needs the file), for scans of at most HIST_ALL_PAIRS_LIMIT files.
    crop_features: bool = True


@dataclass(slots=True)
class ScanResult:
    roots: list[str]
    store: FeatureStore
    errors: list[ScanError]
    skipped: list[ScanError]
    cancelled: bool
    decoded: int
    from_cache: int
    elapsed: float


class FeatureCacheLike(Protocol):
    """What the scan needs from a cache (see engine.cache.FeatureCache).

    ``hash_size`` is part of the cache key: rows of another hash size are never returned.
    """

    def get_many(self, entries: list[FileEntry], hash_size: int) -> dict[int, FeatureRow]: ...

    def put_many(self, items: list[tuple[FileEntry, FeatureRow]], hash_size: int) -> None: ...

    # Optional, and preferred when present (no object per file on a warm rescan):
    # get_block(entries, hash_size) -> (indices of hits in entries, FeatureBlock) | None


#: RAW file names end with one of these (for str.endswith: which size groups hold a RAW).
RAW_SUFFIXES = tuple(sorted(RAW_EXTENSIONS))

#: Threads that may decode or compute features at once, process-wide: one per core. The pool
#: has more threads (they wait in reads), so I/O overlaps decoding without more CPU-bound
#: threads than cores fighting over caches and the GIL (which the TUI's event loop needs).
CPU_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))

#: Files smaller than this are worked on by one thread at a time. Their decode is so short that
#: such a file is mostly Python holding the GIL (header parsing, a few dozen small numpy calls),
#: so two threads only hand the GIL back and forth: measured at several file sizes, parallel
#: workers cost more wall time and CPU than one at a time on the smallest files, broke even a
#: little below this size and won above it (benchmarks/RESULTS.md, "Why the code is as it is").
SERIAL_BELOW_BYTES = 8 * 1024
_SMALL_FILES = threading.Lock()


def compute_row(entry: FileEntry, config: ScanConfig, want_digest: bool) -> FeatureRow | ScanError:
    """One file, one read, one decode: every feature comes from the same small image.

    The read happens outside the CPU slot (it may wait on a NAS); decoding and the features
    share one slot. Taken twice, the slot went to another thread in between, so a decoded
    image waited for a core again, cooling in the cache (2 workers then beat 4 on local disks).
    Tiny files (:data:`SERIAL_BELOW_BYTES`) take their turn one at a time.
    """
    data = read_input(entry, config.limits)  # a RAW: its head and tail (raw.RawInput)
    if isinstance(data, ScanError):
        return data
    one_at_a_time = _SMALL_FILES if len(data) < SERIAL_BELOW_BYTES else contextlib.nullcontext()
    with one_at_a_time, CPU_SLOTS:  # this order: a waiting tiny file holds no slot
        decoded = decode_data(entry.path, data, config.limits, want_digest=want_digest)
        if isinstance(decoded, ScanError):
            return decoded
        hashes, features, sharp = extract(decoded.image, config.hash_size)  # every column
        local = thumb = None
        if config.crop_features:
            gray = to_gray(decoded.image)
            local, thumb = crop_features(gray)
    meta = with_sharpness(decoded.meta, sharp)
    edge = input_edge(data)  # for the cache's re-check after a rename or chmod
    return FeatureRow(
        meta, hashes, features=features, digest=decoded.digest, edge=edge, local=local, thumb=thumb
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around the bulk phases (discovery, cache read,
    store build). They allocate ~10^5 long-lived objects without cycles (entries, stat
    results, path strings), and each allocation burst makes the collector rescan all of them:
    a large share of a 100k-file discovery (benchmarks/RESULTS.md, "Why the code is as it
    is"). Reference counting still frees everything;
    the collector is switched back on (if it was on) as soon as the phase ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shared_sizes(files: list[FileEntry]) -> tuple[set[int], np.ndarray, set[tuple[int, int]]]:
    """Which files need a content digest (another file may hold the same bytes): the sizes
    held by more than one file, a per-file mask, and the identities of files whose size is
    shared but whose edges are not (no digest for them).

    A file needs one when another file has its size. Where a size group holds a RAW, whose
    decode reads only its header and preview (so a digest means reading it whole), the group
    is narrowed first by the edge digest (size and the first and last 64 KiB, read by
    :func:`digest.edge_digest_file`): uncompressed RAW formats give every file of a camera the
    same size, and those would otherwise all be read whole.
    """
    sizes = np.fromiter((f.size for f in files), np.int64, len(files))
    uniq, inverse, counts = np.unique(sizes, return_inverse=True, return_counts=True)
    mask = (counts > 1)[inverse]
    shared = np.flatnonzero(mask)
    group_has_raw = np.zeros(len(uniq), bool)
    for k in shared.tolist():
        if files[k].path.lower().endswith(RAW_SUFFIXES):
            group_has_raw[inverse[k]] = True
    narrow = shared[group_has_raw[inverse[shared]]]
    alone: set[tuple[int, int]] = set()
    if len(narrow):
        mask[narrow] = _edge_shared([files[k] for k in narrow.tolist()])
        alone = {files[k].identity for k in narrow[~mask[narrow]].tolist()}
    return set(uniq[counts > 1].tolist()), mask, alone


def _edge_shared(files: list[FileEntry]) -> np.ndarray:
    """Per file: does another of ``files`` have the same size and edge digest? A file whose
    edges cannot be read counts as shared (its decode reports what is wrong with it)."""

    def key(entry: FileEntry) -> tuple[int, bytes] | None:
        try:
            return edge_digest_file(entry.path)
        except OSError:
            return None

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="dedup-edge") as pool:
        keys = list(pool.map(key, files))
    counts: dict[tuple[int, bytes], int] = {}
    for k in keys:
        if k is not None:
            counts[k] = counts.get(k, 0) + 1
    return np.array([k is None or counts[k] > 1 for k in keys], bool)


def _from_cache(
    files: list[FileEntry],
    shared_mask: np.ndarray,
    cache: FeatureCacheLike | None,
    hash_size: int,
    builder: StoreBuilder,
) -> tuple[list[tuple[FileEntry, bool]], dict[tuple[int, int], FeatureRow]]:
    """Put cache hits into ``builder``; return the files still to do, as (entry, needs decode),
    and the cached rows of the files that only need a digest (by identity)."""
    if cache is None or not files:
        return [(e, True) for e in files], {}
    get_block = getattr(cache, "get_block", None)
    if get_block is None:  # a cache with only the row interface
        hits = cache.get_many(files, hash_size)
        todo: list[tuple[FileEntry, bool]] = []
        cached_rows: dict[tuple[int, int], FeatureRow] = {}
        for k, entry in enumerate(files):
            row = hits.get(k)
            if row is None:
                todo.append((entry, True))
            elif row.digest is None and shared_mask[k]:
                todo.append((entry, False))  # cached features, but a digest is newly needed
                cached_rows[entry.identity] = row
            else:
                builder.add(entry, row)
        return todo, cached_rows
    got = get_block(files, hash_size)
    index, block = got if got is not None else (np.zeros(0, np.int64), None)
    hit = np.zeros(len(files), bool)
    hit[index] = True
    todo = [(files[k], True) for k in np.flatnonzero(~hit).tolist()]
    cached_rows = {}
    if block is not None and len(block):
        # cached features, but a digest is newly needed: those files travel as single rows
        need = ~block.has_digest & shared_mask[index]
        if need.any():
            for i in np.flatnonzero(need).tolist():
                entry = files[int(index[i])]
                todo.append((entry, False))
                cached_rows[entry.identity] = block.row(i)
            keep = np.flatnonzero(~need)
            block, index = block.take(keep), index[keep]
        builder.add_block([files[k] for k in index.tolist()], block)
    return todo, cached_rows


def scan(
    roots: Iterable[str],
    config: ScanConfig | None = None,
    *,
    cache: FeatureCacheLike | None = None,
    on_progress: Callable[[ScanProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ScanResult:
    config = config or ScanConfig()
    stop = should_stop or (lambda: False)
    roots = normalise_roots(roots)
    prog = Progress(on_progress)
    t0 = time.monotonic()

    prefetch = getattr(cache, "prefetch_snapshot", None)  # optional (engine.cache_snapshot)
    if prefetch is not None:
        prefetch(roots, config.hash_size)  # loads while discovery runs
    with _gc_paused():
        report = discover(
            roots,
            config.discover,
            on_file=lambda k: prog.emit("discovering", k, 0, 0, 0, 0),
            should_stop=stop,
        )
        files = report.files
        errors = list(report.errors)
        total = len(files)
        shared, shared_mask, edges_alone = _shared_sizes(files)
        builder = StoreBuilder(config.hash_size)

        todo, cached_rows = _from_cache(files, shared_mask, cache, config.hash_size, builder)
        if config.crop_features and total > HIST_ALL_PAIRS_LIMIT:
            config = replace(config, crop_features=False)  # the crop stage skips such a scan
        from_cache = len(builder)
    done = from_cache
    prog.emit("hashing", done, total, from_cache, len(errors), 0, force=True)

    if todo:
        with pillow_pixel_limit(config.limits.max_pixels), opencv_threads(1):
            done = _run_pool(
                todo,
                config,
                (shared, edges_alone),
                cached_rows,
                builder,
                errors,
                cache,
                prog,
                stop,
                (done, total, from_cache),
            )
    decoded = len(builder) - from_cache
    bytes_read = sum(e.size for e in builder.entries[from_cache:])
    cancelled = stop()
    with _gc_paused():
        store = builder.build()
    del builder  # spent: its blocks were moved into the store
    note_movies(store, report.movies)
    if len(store) > from_cache:  # decoders ran: hand back what they freed
        release_free_memory()
    save_snapshot = getattr(cache, "save_snapshot", None)  # optional (engine.cache_snapshot)
    if save_snapshot is not None and not cancelled:
        save_snapshot(store)  # the next scan of these roots reads this store in one go
    # files finished (errors included), as the hashing stage counted them: a full bar stays full
    prog.emit("done", done, total, from_cache, len(errors), bytes_read, force=True)
    return ScanResult(
        roots, store, errors, report.skipped, cancelled, decoded, from_cache, time.monotonic() - t0
    )


def _run_pool(
    todo: list[tuple[FileEntry, bool]],
    config: ScanConfig,
    shared: tuple[set[int], set[tuple[int, int]]],
    cached_rows: dict[tuple[int, int], FeatureRow],
    builder: StoreBuilder,
    errors: list[ScanError],
    cache: FeatureCacheLike | None,
    prog: Progress,
    stop: Callable[[], bool],
    counts: tuple[int, int, int],
) -> int:
    """Decode ``todo`` on a pool; returns the running ``done`` count (files finished)."""
    done, total, from_cache = counts
    workers = config.workers or 2 * (os.cpu_count() or 2)
    pending_cache: list[tuple[FileEntry, FeatureRow]] = []
    last_flush = time.monotonic()
    bytes_read = 0

    def work(entry: FileEntry, needs_decode: bool) -> FeatureRow | ScanError | None:
        if stop():
            return None  # no new file starts after a cancel
        want_digest = entry.size in shared[0] and entry.identity not in shared[1]
        if needs_decode:
            return compute_row(entry, config, want_digest)
        row = cached_rows[entry.identity]
        try:
            row.digest, row.edge = digest_and_edge_path(entry.path)
        except OSError as exc:
            return ScanError(entry.path, f"cannot read: {exc.strerror or exc}")
        return row

    it = iter(todo)
    in_flight: dict[Future, FileEntry] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dedup-decode") as pool:

        def fill() -> None:
            while len(in_flight) < workers * 2 and not stop():
                nxt = next(it, None)
                if nxt is None:
                    return
                in_flight[pool.submit(work, *nxt)] = nxt[0]

        fill()
        while in_flight:
            finished, _ = wait(in_flight, timeout=0.25, return_when=FIRST_COMPLETED)
            prog.flush()  # what the throttle held back, if files stopped finishing
            for fut in finished:
                entry = in_flight.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # a bug, not bad input: still one line, scan goes on
                    res = ScanError(entry.path, f"internal error: {type(exc).__name__}: {exc}")
                if res is None:
                    continue
                done += 1
                if isinstance(res, ScanError):
                    errors.append(res)
                else:
                    builder.add(entry, res)
                    if cache is not None:  # without a cache nothing must keep the rows
                        pending_cache.append((entry, res))
                    bytes_read += entry.size
                prog.emit("hashing", done, total, from_cache, len(errors), bytes_read, entry.path)
            if time.monotonic() - last_flush > CACHE_FLUSH_INTERVAL:
                if cache is not None and pending_cache:
                    cache.put_many(pending_cache, config.hash_size)
                    pending_cache = []
                release_free_memory()  # what the decoders freed since (engine.memory)
                last_flush = time.monotonic()
            fill()
    if cache is not None and pending_cache:
        cache.put_many(pending_cache, config.hash_size)
    prog.emit("hashing", done, total, from_cache, len(errors), bytes_read, force=True)
    return done
