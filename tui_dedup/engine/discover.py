"""Find image files under one or more roots.

Discovery only looks at names and ``stat`` results; content is checked at decode time, where the
bytes are read anyway (a misnamed or non-image file becomes a one-line error there). Everything a
user might wonder about ("why was this file not scanned?") is reported as a skip with a reason,
never silently dropped, except the junk folders of the default exclude list.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tui_dedup.engine.model import FileEntry, ScanError

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
    | {".heic", ".heif", ".avif"}
)
RAW_EXTENSIONS = frozenset(
    {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".orf", ".rw2", ".raf"}
    | {".pef", ".srw", ".x3f", ".3fr", ".erf", ".kdc", ".mrw", ".raw", ".rwl", ".iiq"}
)

#: Our own quarantine folder, inside every scanned root.
QUARANTINE_DIRNAME = ".dedup-tui"

#: Folders NAS boxes and desktops leave beside photos: thumbnails, recycle bins, fsck debris.
#: Without this every photo on a Synology share has four thumbnail "duplicates".
DEFAULT_EXCLUDES: tuple[str, ...] = (
    "@eaDir",
    "#recycle",
    "#snapshot",
    ".@__thumb",
    "$RECYCLE.BIN",
    ".Trash-*",
    ".Trashes",
    "System Volume Information",
    "lost+found",
    QUARANTINE_DIRNAME,
)


@dataclass(slots=True)
class DiscoverOptions:
    """What to walk into; the defaults suit a photo library."""

    excludes: tuple[str, ...] = ()
    default_excludes: bool = True
    hidden: bool = False
    follow_symlinks: bool = False
    min_size: int = 1
    extensions: frozenset[str] = IMAGE_EXTENSIONS

    def patterns(self) -> tuple[str, ...]:
        base = DEFAULT_EXCLUDES if self.default_excludes else (QUARANTINE_DIRNAME,)
        return base + tuple(self.excludes)


@dataclass(slots=True)
class DiscoveryReport:
    """Files found plus what was passed over and why."""

    files: list[FileEntry] = field(default_factory=list)
    skipped: list[ScanError] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)


def normalise_roots(roots: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Absolute, normalised roots; a root inside another root is kept (inodes dedupe files)."""
    out: list[str] = []
    for r in roots:
        p = os.path.abspath(os.fsdecode(os.fspath(r)))
        if p not in out:
            out.append(p)
    return out


def _excluded(name: str, relpath: str, patterns: tuple[str, ...]) -> bool:
    for pat in patterns:
        target = relpath if "/" in pat else name
        if fnmatch.fnmatchcase(target, pat):
            return True
    return False


def walk(
    roots: Iterable[str],
    options: DiscoverOptions | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[FileEntry | ScanError]:
    """Yield image files and skip/error records, depth-first, without recursion.

    Each (dev, ino) is yielded once: hard links and overlapping roots are one file, so they can
    never be offered as duplicates of themselves. A ScanError whose reason starts with "skipped"
    is informational; anything else is a failure the user should see.
    """
    opts = options or DiscoverOptions()
    patterns = opts.patterns()
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for root in normalise_roots(roots):
        try:
            st = os.stat(root)
        except OSError as exc:
            yield ScanError(root, f"cannot open folder: {exc.strerror or exc}")
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield ScanError(root, "not a folder")
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        stack = [root]
        while stack:
            if should_stop is not None and should_stop():
                return
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name, reverse=True)
            except OSError as exc:
                yield ScanError(folder, f"cannot read folder: {exc.strerror or exc}")
                continue
            for e in entries:
                yield from _visit(e, root, opts, patterns, seen_files, seen_dirs, stack)


def _visit(
    e: os.DirEntry[str],
    root: str,
    opts: DiscoverOptions,
    patterns: tuple[str, ...],
    seen_files: set[tuple[int, int]],
    seen_dirs: set[tuple[int, int]],
    stack: list[str],
) -> Iterator[FileEntry | ScanError]:
    name = e.name
    if name.startswith(".") and not opts.hidden:
        return
    rel = os.path.relpath(e.path, root)
    if _excluded(name, rel, patterns):
        return
    try:
        is_link = e.is_symlink()
        if is_link and not opts.follow_symlinks:
            if os.path.splitext(name)[1].lower() in opts.extensions:
                yield ScanError(e.path, "skipped: symbolic link (use --follow-symlinks)")
            return
        st = e.stat(follow_symlinks=True)
    except FileNotFoundError:
        if is_link:
            yield ScanError(e.path, "skipped: broken symbolic link")
        else:
            yield ScanError(e.path, "vanished during the scan")
        return
    except OSError as exc:
        if exc.errno is not None and exc.errno == 40:  # ELOOP
            yield ScanError(e.path, "skipped: symbolic link loop")
        else:
            yield ScanError(e.path, f"cannot stat: {exc.strerror or exc}")
        return
    if stat.S_ISDIR(st.st_mode):
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            if is_link:
                yield ScanError(e.path, "skipped: symbolic link to a folder already scanned")
            return
        seen_dirs.add(key)
        stack.append(e.path)
        return
    ext = os.path.splitext(name)[1].lower()
    if ext in RAW_EXTENSIONS:
        yield ScanError(e.path, "skipped: RAW camera files are not compared (out of scope)")
        return
    if ext not in opts.extensions:
        return
    if not stat.S_ISREG(st.st_mode):
        yield ScanError(e.path, "skipped: not a regular file (FIFO, socket or device)")
        return
    if st.st_size == 0:
        yield ScanError(e.path, "empty file (0 bytes)")
        return
    if st.st_size < opts.min_size:
        return
    key = (st.st_dev, st.st_ino)
    if key in seen_files:
        yield ScanError(
            e.path, "skipped: same file as another path (hard link or overlapping root)"
        )
        return
    seen_files.add(key)
    yield FileEntry(e.path, root, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def discover(
    roots: Iterable[str],
    options: DiscoverOptions | None = None,
    *,
    on_file: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DiscoveryReport:
    """Collect the whole file list (the scan needs the total and the sizes up front)."""
    report = DiscoveryReport()
    for item in walk(roots, options, should_stop=should_stop):
        if isinstance(item, FileEntry):
            report.files.append(item)
            if on_file is not None:
                on_file(len(report.files))
        elif item.reason.startswith("skipped"):
            report.skipped.append(item)
        else:
            report.errors.append(item)
    return report
