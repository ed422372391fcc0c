"""What the world does to the tree between two dedup-tui commands (the chaos harness's attacks).

Each function is one thing a person, a sync tool or a second program really does, done the
plain way (rename, symlink, write, rm), never through dedup-tui. Each returns one line for the
step log, or None when it found nothing to act on. They never write outside the world's base
folder and never write *through* a symlink into ``outside/`` (that folder is the oracle's
sentinel: only dedup-tui could change it). Removals need no bookkeeping here: chaos.py compares
the census before and after every interference and excuses what disappeared.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import shutil

from chaos_world import (
    DEST_MARKER_NAME,
    QUARANTINE_NAME,
    World,
    is_quarantine,
    picture_of_size,
    regular_files,
)


def _live_files(w: World) -> list[str]:
    """Regular files in the roots, outside quarantines, reached without a symlink."""
    out = []
    for root in w.roots:
        for p in regular_files(root):
            if not is_quarantine(p) and os.path.realpath(p) == p:
                out.append(p)
    return sorted(out)


def _pick_file(w: World, rng: random.Random) -> str | None:
    """A live picture: first a draw from the generated paths (the same draw whatever happened
    before, so a seed's run repeats even after a race changed which files are left); if that
    one is gone, one of the files there are now."""
    start = sorted(w.start_paths)
    first = start[rng.randrange(len(start))]
    second = rng.random()
    files = _live_files(w)
    if first in files:
        return first
    return files[int(second * len(files))] if files else None


def _real_dirs(top: str, *, quarantine: bool) -> list[str]:
    """Real sub-folders of ``top`` (not ``top``), optionally including quarantine folders."""
    out: list[str] = []
    if os.path.islink(top) or not os.path.isdir(top):
        return out
    for d, dirs, _files in os.walk(top):
        keep = []
        for name in sorted(dirs):
            p = os.path.join(d, name)
            if os.path.islink(p) or (not quarantine and name == QUARANTINE_NAME):
                continue
            keep.append(name)
            out.append(p)
        dirs[:] = keep
    return sorted(out)


def rewrite(w: World, rng: random.Random) -> str | None:
    """Another picture written over a file, same size, mtime put back (``cp``/``touch -r``).

    In place (same inode: only ctime tells), by rename (rsync style: a new inode), or a new
    file saved at the name of a picture dedup-tui moved away (same size and mtime as before).
    """
    seed = rng.randrange(10**6, 10**7)
    mode = rng.choice(("in-place", "in-place", "in-place", "replace", "recreate"))
    if mode == "recreate":
        gone = [p for p in sorted(w.start_paths) if not os.path.lexists(p)]
        parents_ok = [
            p
            for p in gone
            if os.path.isdir(os.path.dirname(p))
            and os.path.realpath(os.path.dirname(p)) == os.path.dirname(p)
        ]
        if parents_ok:
            path = rng.choice(parents_ok)
            _digest, size, mtime_ns = w.start_paths[path]
            data = picture_of_size(seed, size)
            if data is None:
                return None
            try:
                with open(path, "xb") as f:
                    f.write(data)
            except OSError as e:  # the disk is full: the person's save failed
                with contextlib.suppress(OSError):
                    os.unlink(path)
                return f"could not save a new picture at {w.short(path)}: {e.strerror}"
            os.utime(path, ns=(mtime_ns, mtime_ns))
            w.track(path)
            return f"new picture saved at the old name {w.short(path)} (same size and mtime)"
        mode = "in-place"
    picked = _pick_file(w, rng)
    if picked is None:
        return None
    path = picked
    st = os.lstat(path)
    data = picture_of_size(seed, st.st_size)
    if data is None:
        return None
    if mode == "in-place":
        with open(path, "r+b") as f:
            f.write(data)
    else:
        tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.sync-tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
        except OSError as e:  # the disk is full: the sync tool gives up
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return f"could not rewrite {w.short(path)}: {e.strerror}"
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    w.track(path)
    links = f", {st.st_nlink} links" if st.st_nlink > 1 else ""
    return f"rewrote {w.short(path)} {mode} with another picture, size and mtime kept{links}"


def swap(w: World, rng: random.Random) -> str | None:
    """A folder renamed aside and a symlink put at its name: to a folder inside a root, or to an
    outside copy of it (a backup made with ``cp -a``: same names, bytes and mtimes); or a
    ``.dedup-tui`` quarantine planted as a link to somewhere outside; or the --move-to folder
    renamed aside and replaced by a link to an empty folder elsewhere (a new plan that names
    --move-to may use that folder; an older plan or batch must not follow the link)."""
    n = rng.randrange(10**6)
    kind = rng.choice(("inside", "inside", "outside", "outside", "plant-quarantine", "dest"))
    if kind == "plant-quarantine":
        root = rng.choice(w.roots)
        q = os.path.join(root, QUARANTINE_NAME)
        target = os.path.join(w.outside, f"planted-{n}")
        os.makedirs(target)
        if os.path.lexists(q):
            if os.path.islink(q):
                return None
            os.rename(q, f"{q}.was-{n}")
        os.symlink(target, q)
        return f"planted {w.short(q)} as a symlink to {w.short(target)}"
    if kind == "dest":
        if not w.dest or os.path.islink(w.dest) or not os.path.isdir(w.dest):
            kind = "outside"
        else:
            aside = f"{w.dest}.was-{n}"
            os.rename(w.dest, aside)
            w.extra_places.append(aside)
            target = os.path.join(w.outside, f"usb-{n}")
            os.makedirs(target)
            os.symlink(target, w.dest)
            return (
                f"--move-to folder {w.short(w.dest)} renamed aside, "
                f"now a symlink to {w.short(target)}"
            )
    candidates = [d for r in w.roots for d in _real_dirs(r, quarantine=True)]
    if w.dest:
        candidates += _real_dirs(w.dest, quarantine=True)
    if not candidates:
        return None
    folder = rng.choice(candidates)
    if kind == "inside":
        inside = [
            d
            for r in w.roots
            for d in [r, *_real_dirs(r, quarantine=False)]
            if not (d + os.sep).startswith(folder + os.sep)
            and not (folder + os.sep).startswith(d + os.sep)
        ]
        if not inside:
            return None
        target = rng.choice(inside)
        link_to = os.path.relpath(target, os.path.dirname(folder)) if rng.random() < 0.5 else target
    else:
        target = os.path.join(w.outside, f"backup-{n}", os.path.basename(folder))
        shutil.copytree(folder, target, symlinks=True, copy_function=shutil.copy2)
        link_to = target
    aside = f"{folder}.was-{n}"
    os.rename(folder, aside)
    os.symlink(link_to, folder)
    return (
        f"swapped {w.short(folder)} for a symlink to {w.short(link_to)} "
        f"({kind}; old folder kept as {os.path.basename(aside)})"
    )


def fill(w: World, rng: random.Random) -> str | None:
    """Fill the small tmpfs, leaving a few KB; the next time, free it again."""
    if not w.mounted:
        return None
    if os.path.exists(w.filler):
        os.unlink(w.filler)
        return "freed the disk (filler removed)"
    leave = rng.randrange(0, 16) * 1024
    st = os.statvfs(w.mnt)
    want = st.f_bavail * st.f_frsize - leave
    chunk = b"\0" * 65536
    written = 0
    with open(w.filler, "wb") as f:
        while written < want:
            try:
                written += f.write(chunk[: min(len(chunk), want - written)])
                f.flush()
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    st = os.statvfs(w.mnt)
    return f"filled the disk: {st.f_bavail * st.f_frsize // 1024} KB left"


def empty_quarantine(w: World, rng: random.Random) -> str | None:
    """Free the space, as a user would once happy: ``rm -rf`` the quarantine folders, empty the
    --move-to folder (its marker stays: ``rm -rf dest/*`` skips dot files), sometimes the trash."""
    whole = rng.random() < 0.5
    done = []
    for root in w.roots:
        for d, dirs, _files in os.walk(root):
            if QUARANTINE_NAME in dirs:
                q = os.path.join(d, QUARANTINE_NAME)
                dirs.remove(QUARANTINE_NAME)
                if os.path.islink(q):
                    continue
                if whole:
                    shutil.rmtree(q)
                else:
                    for p in list(regular_files(q)):
                        os.unlink(p)
                done.append(w.short(q))
    if w.dest and os.path.isdir(w.dest) and not os.path.islink(w.dest):
        for name in os.listdir(w.dest):
            p = os.path.join(w.dest, name)
            if name == DEST_MARKER_NAME:
                continue
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        done.append(w.short(w.dest))
    if rng.random() < 0.3:
        for t in w.trash_dirs():
            for sub in ("files", "info"):
                d = os.path.join(t, sub)
                if os.path.isdir(d) and not os.path.islink(d):
                    shutil.rmtree(d)
                    os.makedirs(d)
            done.append(w.short(t))
    if not done:
        return None
    how = "rm -rf" if whole else "deleted the files in"
    return f"emptied the quarantine ({how}): {', '.join(done)}"


def delete_by_hand(w: World, rng: random.Random) -> str | None:
    """``rm`` of one picture, or ``rm -rf`` of a whole folder (say, the keepers' folder)."""
    if rng.random() < 0.3:
        dirs = [d for r in w.roots for d in _real_dirs(r, quarantine=False)]
        if dirs:
            d = rng.choice(dirs)
            shutil.rmtree(d)
            return f"rm -rf {w.short(d)}"
    p = _pick_file(w, rng)
    if p is None:
        return None
    with contextlib.suppress(FileNotFoundError):
        os.unlink(p)
    return f"rm {w.short(p)}"


def resync(w: World, rng: random.Random) -> str | None:
    """A phone or cloud sync copies a few pictures in again (byte copies in a new folder):
    more duplicates, so a long run keeps having work to do after the first batches."""
    files = _live_files(w)
    if not files:
        return None
    root = rng.choice(w.roots)
    folder = os.path.join(root, f"sync {rng.randrange(10**6)}")
    picked = rng.sample(files, min(len(files), rng.randint(2, 6)))
    os.makedirs(folder, exist_ok=True)
    done = 0
    for p in picked:
        target = os.path.join(folder, os.path.basename(p))
        if os.path.lexists(target):
            continue
        try:
            shutil.copy2(p, target)
            done += 1
        except OSError:  # a full disk: the sync leaves nothing half-written
            with contextlib.suppress(OSError):
                os.unlink(target)
    return f"a sync copied {done} picture(s) into {w.short(folder)}"


INTERFERENCE = {
    "rewrite": rewrite,
    "swap": swap,
    "fill": fill,
    "empty_quarantine": empty_quarantine,
    "delete_by_hand": delete_by_hand,
    "resync": resync,
}
