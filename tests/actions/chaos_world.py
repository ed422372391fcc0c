"""The chaos harness's world: a temporary folder holding libraries, users, a small disk and an
"outside" that must never change; plus the two measurements the oracle is built on.

Why one object owns the layout: every check asks "is this path one the tool may touch?", and
the answer (roots, ``--move-to`` folder, trash, state and cache dirs) must be the same for the
census of picture contents, the snapshot of everything else, and the environment each process
gets. Nothing here runs dedup-tui; chaos.py does.

Layout under ``base`` (``$T`` in the step log)::

    cwd/                  working directory of every process (must stay empty)
    home-a/ home-b/       HOME of user a and b; their trash is home-x/.local/share/Trash
    state-a/ state-b/     DEDUP_TUI_STATE_DIR (two users = two journals, two lock scopes)
    cache-a/ cache-b/     DEDUP_TUI_CACHE_DIR
    lib1/Photos ...       the roots (one or two; the same folder name in the "same name" variant)
    mnt/                  a small tmpfs (variants that need another filesystem or a full disk)
    dest/ or mnt/dest     the --move-to folder, outside every root
    outside/              sentinels, and the targets of symlinks the interference plants
    harness/              plan files, command output, the filler's temp files (ours, unchecked)
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2

from tui_dedup.demo import make_photo

try:
    from tui_dedup.engine.files.discover import DEST_MARKER as DEST_MARKER_NAME
except ImportError:  # before the destination marker existed
    DEST_MARKER_NAME = ".dedup-tui-destination"

TMPFS_SIZE = "4m"
QUARANTINE_NAME = ".dedup-tui"
# Folders a camera, a phone and a backup habit produce; byte copies often keep their name in
# another folder, which is what makes a folder swapped for a symlink dangerous.
FOLDERS = (
    "",
    "2019",
    "2019/summer",
    "2020/trip/day 1",
    "camera/DCIM/100CANON",
    "phone",
    "whatsapp/sent",
    "backup",
    "backup/2019/summer",
    "edits",
)


class TmpfsUnavailable(RuntimeError):
    """This variant needs a tmpfs and the machine would not mount one (message says why)."""


@dataclass(frozen=True, slots=True)
class Variant:
    """What a seed's world looks like; derived from the seed alone (see :func:`variant_for`)."""

    roots: int  # 1 or 2 libraries
    same_name: bool  # two roots with the same folder name ("Photos" and "Photos")
    tmpfs_root: bool  # the last root lives on the small tmpfs
    dest: str  # "none", "disk" (next to the roots) or "tmpfs" (--move-to on the small tmpfs)
    users: int  # 1 or 2 (state/cache/home per user: sudo and user, cron and the app)

    @property
    def needs_tmpfs(self) -> bool:
        return self.tmpfs_root or self.dest == "tmpfs"

    def label(self) -> str:
        parts = [f"{self.roots}root"]
        if self.same_name:
            parts.append("samename")
        if self.tmpfs_root:
            parts.append("tmpfsroot")
        if self.dest != "none":
            parts.append(f"dest-{self.dest}")
        if self.users == 2:
            parts.append("2users")
        return "-".join(parts)


def variant_for(seed: int) -> Variant:
    r = random.Random(f"chaos-variant/{seed}")
    roots = r.choice((1, 2, 2))
    return Variant(
        roots=roots,
        same_name=roots == 2 and r.random() < 0.5,
        tmpfs_root=r.random() < 0.35,
        dest=r.choice(("none", "disk", "disk", "tmpfs")),
        users=r.choice((1, 2)),
    )


def blake(path: str) -> str | None:
    """BLAKE2b of a regular file's bytes, never following a symlink; None if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        return hashlib.blake2b(f.read(), digest_size=16).hexdigest()


def regular_files(top: str) -> Iterator[str]:
    """Every regular file under ``top``, hidden ones included; no symlink is followed (not even
    ``top`` itself: a destination swapped for a link to elsewhere holds nothing of ours)."""
    if os.path.islink(top) or not os.path.isdir(top):
        return
    stack = [top]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    yield e.path
            except OSError:
                continue


def is_quarantine(path: str) -> bool:
    """Inside a ``.dedup-tui`` folder, or one renamed aside (``.dedup-tui.was-N``)."""
    return any(part.startswith(QUARANTINE_NAME) for part in path.split(os.sep))


@dataclass
class Census:
    """Where every content is right now: digest → paths (roots, destinations, trashes)."""

    where: dict[str, list[str]] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)  # contents with a copy in a root, not quarantined

    def has(self, digest: str) -> bool:
        return digest in self.where


class World:
    """The temporary world of one seed; a context manager (mounts and unmounts the tmpfs)."""

    def __init__(self, base: str, seed: int, variant: Variant | None = None) -> None:
        self.base = os.path.abspath(base)
        self.seed = seed
        self.variant = variant or variant_for(seed)
        self.mnt = os.path.join(self.base, "mnt")
        self.mounted = False
        self.outside = self.p("outside")
        self.harness = self.p("harness")
        self.cwd = self.p("cwd")
        self.users = ["a", "b"][: self.variant.users]
        self.roots: list[str] = []
        self.dest: str | None = None
        self.extra_places: list[str] = []  # a destination folder renamed away by interference
        self.filler = os.path.join(self.mnt, ".filler")
        self.start_paths: dict[str, tuple[str, int, int]] = {}  # path → (digest, size, mtime_ns)
        self.family: dict[str, int] = {}  # tracked content → family (one generated picture)
        self.labels: dict[str, str] = {}  # tracked content → where it was born (for messages)
        self.families = 0

    def p(self, *parts: str) -> str:
        return os.path.join(self.base, *parts)

    def short(self, text: str) -> str:
        """``text`` with the world's folder written ``$T`` (its real path too: tools print it)."""
        return text.replace(os.path.realpath(self.base), "$T").replace(self.base, "$T")

    # -- the world's parts ---------------------------------------------------------------------
    def home(self, user: str) -> str:
        return self.p(f"home-{user}")

    def state(self, user: str) -> str:
        return self.p(f"state-{user}")

    def cache(self, user: str) -> str:
        return self.p(f"cache-{user}")

    def trash_dirs(self) -> list[str]:
        out = [os.path.join(self.home(u), ".local", "share", "Trash") for u in ("a", "b")]
        if self.mounted:
            out += [
                os.path.join(self.mnt, n)
                for n in sorted(os.listdir(self.mnt))
                if n.startswith(".Trash")
            ]
        return out

    def places(self) -> list[str]:
        """Where a content may legitimately be: roots, destinations, trashes."""
        return [
            *self.roots,
            *([self.dest] if self.dest else []),
            *self.extra_places,
            *self.trash_dirs(),
        ]

    def allowed(self) -> set[str]:
        """Everything the tool may change (the outside snapshot skips these subtrees)."""
        out = set(self.places())
        out |= {self.state(u) for u in ("a", "b")} | {self.cache(u) for u in ("a", "b")}
        out |= {self.harness, self.filler}
        return out

    def adopt_dest(self) -> None:
        """A command is about to name the --move-to folder afresh. Where that name is now a
        symlink (the interference swapped it), the folder it points to is what the person
        chose this time: a destination from now on. (Before a fresh command named it, nothing
        may be written there: an old plan or an old batch must not follow the new link.)"""
        if self.dest and os.path.islink(self.dest):
            target = os.path.realpath(self.dest)
            if target not in self.extra_places:
                self.extra_places.append(target)

    def prune(self, snapshot: dict[str, tuple]) -> dict[str, tuple]:
        """``snapshot`` without the entries under places allowed since it was taken."""
        rels = [os.path.relpath(a, self.base) for a in self.allowed()]
        rels = [r + os.sep for r in rels if not r.startswith("..")]
        return {
            k: v for k, v in snapshot.items() if not any((k + os.sep).startswith(r) for r in rels)
        }

    def env(self, user: str) -> dict[str, str]:
        e = dict(os.environ)
        e.pop("DEDUP_TUI_PREVIEW", None)
        home = self.home(user)
        e.update(
            HOME=home,
            XDG_DATA_HOME=os.path.join(home, ".local", "share"),
            XDG_CONFIG_HOME=os.path.join(home, ".config"),
            XDG_CACHE_HOME=os.path.join(self.cache(user), "xdg"),
            XDG_STATE_HOME=os.path.join(self.state(user), "xdg"),
            DEDUP_TUI_STATE_DIR=self.state(user),
            DEDUP_TUI_CACHE_DIR=self.cache(user),
            TMPDIR=os.path.join(self.harness, "tmp"),
        )
        return e

    # -- setup / teardown ----------------------------------------------------------------------
    def __enter__(self) -> World:
        os.makedirs(self.base, exist_ok=True)
        for d in (self.outside, self.cwd, os.path.join(self.harness, "tmp")):
            os.makedirs(d, exist_ok=True)
        for u in ("a", "b"):
            os.makedirs(os.path.join(self.home(u), ".local", "share"), exist_ok=True)
        if self.variant.needs_tmpfs:
            self._mount()
        v = self.variant
        for i in range(v.roots):
            on_tmpfs = v.tmpfs_root and i == v.roots - 1
            name = "Photos" if v.same_name or v.roots == 1 else f"Photos{i + 1}"
            top = self.mnt if on_tmpfs else self.base
            self.roots.append(os.path.join(top, f"lib{i + 1}", name))
        if v.dest == "disk":
            self.dest = self.p("dest")
        elif v.dest == "tmpfs":
            self.dest = os.path.join(self.mnt, "dest")
        self._make_tree()
        self._make_outside()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.mounted:
            r = subprocess.run(["umount", self.mnt], capture_output=True, check=False)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", self.mnt], capture_output=True, check=False)
            self.mounted = False

    def _mount(self) -> None:
        os.makedirs(self.mnt, exist_ok=True)
        if os.geteuid() != 0:
            raise TmpfsUnavailable("mounting a tmpfs needs root (this variant needs one)")
        try:
            r = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", self.mnt],
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TmpfsUnavailable(f"mount -t tmpfs failed: {e}") from None
        if r.returncode != 0:
            raise TmpfsUnavailable(f"mount -t tmpfs failed: {r.stderr.strip() or r.returncode}")
        self.mounted = True

    # -- the pictures --------------------------------------------------------------------------
    def _free_path(self, rng: random.Random, root: str, name: str) -> str:
        for _ in range(50):
            folder = rng.choice(FOLDERS)
            path = os.path.join(root, folder, name)
            if not os.path.lexists(path):
                return path
        stem, ext = os.path.splitext(name)
        return self._free_path(rng, root, f"{stem} ({rng.randrange(1000)}){ext}")

    def _write(self, path: str, data: bytes, rng: random.Random) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        t = 1_560_000_000 + rng.randrange(120_000_000)  # 2019..2022, distinct: oldest ≠ newest
        os.utime(path, ns=(t * 10**9, t * 10**9 + rng.randrange(10**9)))

    def _make_tree(self) -> None:
        """A few dozen small pictures: unique ones, byte copies, re-encoded and resized copies."""
        rng = random.Random(f"chaos-tree/{self.seed}")
        n_fam = rng.randint(11, 15) if len(self.roots) == 1 else rng.randint(8, 10) * 2
        for k in range(n_fam):
            fam = self.new_family()
            w = rng.randint(120, 200)
            h = int(w * rng.choice((0.75, 0.66, 1.0)))
            img = make_photo(self.seed * 1000 + k, w, h)
            home = self.roots[k % len(self.roots)]
            name = f"IMG_{1000 + k}.jpg"
            original = _jpeg(img, 92)
            self._add(self._free_path(rng, home, name), original, fam, rng)
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                root = home if rng.random() < 0.7 else rng.choice(self.roots)
                kind = rng.choice(("bytes", "bytes", "reencode", "resize"))
                if kind == "bytes":
                    copy_name = name if rng.random() < 0.7 else f"IMG_{1000 + k} copy.jpg"
                    self._add(self._free_path(rng, root, copy_name), original, fam, rng)
                elif kind == "reencode":
                    self._add(
                        self._free_path(rng, root, f"IMG-{k}-WA.jpg"), _jpeg(img, 75), fam, rng
                    )
                else:
                    s = rng.uniform(0.55, 0.8)
                    small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
                    self._add(
                        self._free_path(rng, root, f"IMG_{1000 + k}_small.jpg"),
                        _jpeg(small, 85),
                        fam,
                        rng,
                    )

    def _add(self, path: str, data: bytes, fam: int, rng: random.Random) -> None:
        self._write(path, data, rng)
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        self.family.setdefault(digest, fam)
        self.labels.setdefault(digest, f"generated as {self.short(path)}")
        st = os.lstat(path)
        self.start_paths[path] = (digest, st.st_size, st.st_mtime_ns)

    def new_family(self) -> int:
        self.families += 1
        return self.families

    def track(self, path: str) -> None:
        """A content the interference created (a rewritten picture): the tool must keep it too."""
        digest = blake(path)
        if digest is not None and digest not in self.family:
            self.family[digest] = self.new_family()
            self.labels[digest] = f"written by the interference at {self.short(path)}"

    def _make_outside(self) -> None:
        with open(os.path.join(self.outside, "sentinel.txt"), "w") as f:
            f.write("nothing may change me\n")
        os.makedirs(os.path.join(self.outside, "keep"), exist_ok=True)
        first = min(self.start_paths)
        shutil.copy2(first, os.path.join(self.outside, "keep", os.path.basename(first)))

    # -- measurements --------------------------------------------------------------------------
    def census(self) -> Census:
        c = Census()
        roots = [os.path.join(r, "") for r in self.roots]
        for top in self.places():
            for path in regular_files(top):
                d = blake(path)
                if d is None or d not in self.family:
                    continue
                c.where.setdefault(d, []).append(path)
                if any(path.startswith(r) for r in roots) and not is_quarantine(path):
                    c.live.add(d)
        for paths in c.where.values():
            paths.sort()
        return c

    def outside_snapshot(self) -> dict[str, tuple]:
        """Every entry under base outside the allowed places: relpath → what it is."""
        allowed = self.allowed()
        out: dict[str, tuple] = {}
        stack = [self.base]
        while stack:
            d = stack.pop()
            try:
                entries = list(os.scandir(d))
            except OSError:
                continue
            for e in entries:
                if e.path in allowed:
                    continue
                rel = os.path.relpath(e.path, self.base)
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    out[rel] = ("link", os.readlink(e.path))
                elif stat.S_ISDIR(st.st_mode):
                    out[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_uid)
                    stack.append(e.path)
                elif stat.S_ISREG(st.st_mode):
                    out[rel] = (
                        "file",
                        blake(e.path),
                        st.st_size,
                        st.st_mtime_ns,
                        stat.S_IMODE(st.st_mode),
                        st.st_uid,
                    )
                else:
                    out[rel] = ("other", stat.S_IFMT(st.st_mode))
        return out


def snapshot_diff(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    """One line per entry that appeared, vanished or changed (kind, bytes, mtime, mode, owner)."""
    lines = []
    for rel in sorted(set(before) | set(after)):
        a, b = before.get(rel), after.get(rel)
        if a == b:
            continue
        if a is None and b is not None:
            lines.append(f"appeared: {rel} ({b[0]})")
        elif b is None and a is not None:
            lines.append(f"vanished: {rel} ({a[0]})")
        elif a is not None and b is not None:
            lines.append(f"changed: {rel} {a[0]} → {b[0]}")
    return lines


def _jpeg(img, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def picture_of_size(seed: int, size: int) -> bytes | None:
    """Another picture, padded with zeros to exactly ``size`` bytes (JPEG readers stop at EOI)."""
    w = 120
    while w >= 24:
        img = make_photo(seed, w, w * 3 // 4)
        for q in (85, 60, 35, 15):
            data = _jpeg(img, q)
            if len(data) <= size:
                return data + b"\0" * (size - len(data))
        w = w * 2 // 3
    return None
