"""Find image files under one or more roots.

Discovery only looks at names and ``stat`` results; content is checked at decode time, where the
bytes are read anyway (a misnamed or non-image file becomes a one-line error there). Everything a
user might wonder about ("why was this file not scanned?") is reported as a skip with a reason,
never silently dropped, except the junk folders of the default exclude list.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter

from tui_dedup.engine.model import FileEntry, ScanError

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
    | {".heic", ".heif", ".avif"}
)
#: RAW camera files LibRaw reads (engine/files/raw.py), and the format name their files get
#: (ImageMeta.format). Scanned by default since issue #17; each is checked by content first.
_RAW_NAMES = (
    *("3FR", "ARW", "CR2", "CR3", "CRW", "DCR", "DNG", "ERF", "IIQ", "KDC", "MEF", "MOS"),
    *("MRW", "NEF", "NRW", "ORF", "PEF", "RAF", "RAW", "RW2", "RWL", "SR2", "SRF", "SRW", "X3F"),
)
RAW_FORMATS = {f".{name.lower()}": name for name in _RAW_NAMES}
RAW_EXTENSIONS = frozenset(RAW_FORMATS)
#: What a scan reads by default: images and RAW camera files.
SCANNED_EXTENSIONS = IMAGE_EXTENSIONS | RAW_EXTENSIONS


#: A Live Photo's movie: not scanned, only noted beside its still.
MOVIE_EXTENSIONS = frozenset({".mov"})


def is_raw_path(path: str) -> bool:
    """Is this a camera RAW file, by its name (as discovery decides what to scan)?"""
    return os.path.splitext(path)[1].lower() in RAW_EXTENSIONS


#: Our own quarantine folder, inside every scanned root.
QUARANTINE_DIRNAME = ".dedup-tui"

#: A folder holding a file of this name is a ``--move-to`` destination (the actions write it,
#: like CACHEDIR.TAG): discovery never lists or enters it, whatever the options, so copies moved
#: there are not offered again as duplicates by the next scan (nor moved on by another rule).
DEST_MARKER = ".dedup-tui-destination"

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
    extensions: frozenset[str] = SCANNED_EXTENSIONS

    def patterns(self) -> tuple[str, ...]:
        base = DEFAULT_EXCLUDES if self.default_excludes else (QUARANTINE_DIRNAME,)
        return base + tuple(self.excludes)


@dataclass(slots=True)
class DiscoveryReport:
    """Files found plus what was passed over and why."""

    files: list[FileEntry] = field(default_factory=list)
    skipped: list[ScanError] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    #: Movies seen beside the images (not scanned: video is out of scope), by path: the
    #: movie half of a Live Photo, for the ``+MOV`` badge (engine/verdicts/twins.py).
    movies: list[str] = field(default_factory=list)


def normalise_roots(roots: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Absolute, normalised roots; a root inside another root is kept (inodes dedupe files)."""
    out: list[str] = []
    for r in roots:
        p = os.path.abspath(os.fsdecode(os.fspath(r)))
        if p not in out:
            out.append(p)
    return out


class _Excludes:
    """The exclude patterns compiled once: literal names in a set, globs in one regex per kind.

    A pattern without "/" matches a file or folder name at any depth; one with "/" matches the
    path relative to the scan root (``fnmatchcase`` semantics for both, so "*" crosses "/").
    """

    __slots__ = ("name_first", "name_rx", "names", "path_rx")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        literal = {p for p in patterns if "/" not in p and not _has_magic(p)}
        name_globs = [p for p in patterns if "/" not in p and _has_magic(p)]
        path_globs = [p for p in patterns if "/" in p]
        self.names = frozenset(literal)
        self.name_rx = _compile(name_globs)
        self.path_rx = _compile(path_globs)
        # The first characters a name glob can match, when every one starts with a literal
        # (".Trash-*" does): other names skip the regex. None: a glob starts with a wildcard.
        firsts = {g[0] for g in name_globs}
        self.name_first = None if firsts & set("*?[") else frozenset(firsts)


def _has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _compile(globs: list[str]) -> Callable[[str], object] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)).match


def walk(
    roots: Iterable[str],
    options: DiscoverOptions | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[FileEntry | ScanError]:
    """Yield image files and skip/error records, depth-first, without recursion.

    Each (dev, ino) is yielded once: hard links and overlapping roots are one file, so they can
    never be offered as duplicates of themselves. A folder holding :data:`DEST_MARKER` (a root
    included) is skipped whole, with a note. A ScanError whose reason starts with "skipped" is
    informational; anything else is a failure the user should see.
    """
    for files, notes, _ in _walk_folders(roots, options, should_stop):
        yield from notes
        yield from files


def _walk_folders(
    roots: Iterable[str],
    options: DiscoverOptions | None,
    should_stop: Callable[[], bool] | None,
) -> Iterator[tuple[list[FileEntry], list[ScanError], list[str]]]:
    """The walk, one folder at a time: (its files, its skip/error records, the paths of its
    movies: Live Photo halves), each in walk order.

    The per-entry work is kept to what the answer needs, since a warm rescan of a large tree is
    mostly this loop: the file type comes from the directory entry (``d_type``, no syscall), a
    file whose name is not an image or RAW name is never stat'ed, a stat is relative to the
    open folder (``dir_fd``: one path component for the kernel to resolve, not the whole path),
    the relative path is a slice made only when a pattern needs it, and entries are made
    without the dataclass ``__init__`` (see :func:`_entry_maker`). The destination marker is
    looked up in the sorted listing by bisection: no per-entry work, no extra syscall.
    """
    opts = options or DiscoverOptions()
    ex = _Excludes(opts.patterns())
    ex_names, name_rx, path_rx = ex.names, ex.name_rx, ex.path_rx
    name_first = ex.name_first
    hidden, follow = opts.hidden, opts.follow_symlinks
    extensions, min_size = opts.extensions, opts.min_size
    raw_exts = RAW_EXTENSIONS
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    S_ISDIR, S_ISREG = stat.S_ISDIR, stat.S_ISREG
    os_stat = os.stat
    new_entry = _entry_maker()
    for root in normalise_roots(roots):
        try:
            st = os_stat(root)
        except OSError as exc:
            yield [], [ScanError(root, f"cannot open folder: {exc.strerror or exc}")], []
            continue
        if not S_ISDIR(st.st_mode):
            yield [], [ScanError(root, "not a folder")], []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        cut = len(root) if root.endswith(os.sep) else len(root) + 1
        stack = [root]
        while stack:
            if should_stop is not None and should_stop():
                return
            folder = stack.pop()
            files: list[FileEntry] = []
            notes: list[ScanError] = []
            movies: list[str] = []
            add, note = files.append, notes.append
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=_NAME)
            except OSError as exc:
                yield [], [ScanError(folder, f"cannot read folder: {exc.strerror or exc}")], []
                continue
            at = bisect_left(entries, DEST_MARKER, key=_NAME)
            if at < len(entries) and entries[at].name == DEST_MARKER:
                yield [], [ScanError(folder, _DEST_SKIPPED)], []
                continue
            entries.reverse()  # subfolders are pushed last first, so they pop in name order
            fd = _open_folder(folder)
            try:
                for e in entries:
                    name = e.name
                    if name[0] == "." and not hidden:
                        continue
                    if name in ex_names or (
                        name_rx is not None
                        and (name_first is None or name[0] in name_first)
                        and name_rx(name)
                    ):
                        continue
                    if path_rx is not None and path_rx(e.path[cut:]):
                        continue
                    # os.path.splitext(name)[1].lower(), inline: this runs once per entry
                    dot = name.rfind(".")
                    if dot > 0 and (name[0] != "." or name[:dot].lstrip(".")):
                        ext = name[dot:].lower()
                    else:
                        ext = ""
                    is_link = False
                    try:
                        is_link = e.is_symlink()
                        if is_link:
                            if not follow:
                                if ext in extensions:
                                    note(
                                        ScanError(
                                            e.path,
                                            "skipped: symbolic link (use --follow-symlinks)",
                                        )
                                    )
                                continue
                        elif (
                            ext not in extensions
                            and ext not in raw_exts
                            and not e.is_dir(follow_symlinks=False)
                        ):
                            if ext in MOVIE_EXTENSIONS:
                                movies.append(e.path)
                            continue  # a file (or FIFO, socket, device) that is no image by name
                        if fd is None:
                            st = os_stat(e.path, follow_symlinks=is_link)
                        else:
                            st = os_stat(name, dir_fd=fd, follow_symlinks=is_link)
                    except FileNotFoundError:
                        if is_link:
                            note(ScanError(e.path, "skipped: broken symbolic link"))
                        else:
                            note(ScanError(e.path, "vanished during the scan"))
                        continue
                    except OSError as exc:
                        if exc.errno == errno.ELOOP:
                            note(ScanError(e.path, "skipped: symbolic link loop"))
                        else:
                            note(ScanError(e.path, f"cannot stat: {exc.strerror or exc}"))
                        continue
                    mode = st.st_mode
                    if S_ISDIR(mode):
                        key = (st.st_dev, st.st_ino)
                        if key in seen_dirs:
                            if is_link:
                                note(
                                    ScanError(
                                        e.path,
                                        "skipped: symbolic link to a folder already scanned",
                                    )
                                )
                            continue
                        seen_dirs.add(key)
                        stack.append(e.path)
                        continue
                    if ext not in extensions:
                        if ext in raw_exts:
                            note(
                                ScanError(
                                    e.path,
                                    "skipped: RAW camera files are not scanned with these options",
                                )
                            )
                        continue
                    if not S_ISREG(mode):
                        note(
                            ScanError(
                                e.path, "skipped: not a regular file (FIFO, socket or device)"
                            )
                        )
                        continue
                    size = st.st_size
                    if size == 0:
                        note(ScanError(e.path, "empty file (0 bytes)"))
                        continue
                    if size < min_size:
                        continue
                    key = (st.st_dev, st.st_ino)
                    if key in seen_files:
                        note(
                            ScanError(
                                e.path,
                                "skipped: same file as another path (hard link or overlapping "
                                "root)",
                            )
                        )
                        continue
                    seen_files.add(key)
                    add(
                        new_entry(
                            e.path, root, size, st.st_mtime_ns, key[0], key[1], st.st_ctime_ns
                        )
                    )
            finally:
                if fd is not None:
                    os.close(fd)
            yield files, notes, movies


#: ``os.stat(name, dir_fd=...)`` works here (POSIX); elsewhere stats use whole paths.
_DIR_FD = os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


def _open_folder(folder: str) -> int | None:
    """A descriptor of ``folder`` for relative stats; None (whole paths) when it cannot be
    opened, which the listing that just succeeded makes rare."""
    if not _DIR_FD:
        return None
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


_DEST_SKIPPED = f"skipped: a dedup-tui destination folder (it holds {DEST_MARKER})"
_NAME = attrgetter("name")


def _entry_maker() -> Callable[[str, str, int, int, int, int, int], FileEntry]:
    """A :class:`FileEntry` constructor faster than the frozen dataclass's own ``__init__``
    (which calls ``object.__setattr__`` once per field): the slot descriptors are looked up once
    here, which shows in a warm rescan of 100k files (benchmarks/RESULTS.md, "Why the code is as
    it is"); a test checks it makes equal entries."""
    new = object.__new__
    setters = [getattr(FileEntry, f).__set__ for f in FileEntry.__slots__]
    names = tuple(FileEntry.__slots__)
    if names != ("path", "root", "size", "mtime_ns", "dev", "ino", "ctime_ns"):  # changed
        return FileEntry
    s_path, s_root, s_size, s_mtime, s_dev, s_ino, s_ctime = setters

    def make(
        path: str, root: str, size: int, mtime_ns: int, dev: int, ino: int, ctime_ns: int
    ) -> FileEntry:
        e = new(FileEntry)
        s_path(e, path)
        s_root(e, root)
        s_size(e, size)
        s_mtime(e, mtime_ns)
        s_dev(e, dev)
        s_ino(e, ino)
        s_ctime(e, ctime_ns)
        return e

    return make


#: Files between two ``on_file`` calls during discovery (the last count is always reported).
ON_FILE_EVERY = 256


def discover(
    roots: Iterable[str],
    options: DiscoverOptions | None = None,
    *,
    on_file: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DiscoveryReport:
    """Collect the whole file list (the scan needs the total and the sizes up front)."""
    report = DiscoveryReport()
    files, skipped, errors = report.files, report.skipped, report.errors
    for batch, notes, movies in _walk_folders(roots, options, should_stop):
        report.movies += movies
        for item in notes:
            (skipped if item.reason.startswith("skipped") else errors).append(item)
        if not batch:
            continue
        before = len(files)
        files += batch
        if on_file is not None:  # at each multiple of ON_FILE_EVERY, as if file by file
            for k in range(
                before - before % ON_FILE_EVERY + ON_FILE_EVERY, len(files) + 1, ON_FILE_EVERY
            ):
                on_file(k)
    if on_file is not None and files and len(files) % ON_FILE_EVERY:
        on_file(len(files))
    return report
