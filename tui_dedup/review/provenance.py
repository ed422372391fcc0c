"""Which of two copies was derived from the other: the per-file signals the keeper rules rank.

Why separate from :mod:`.keepers`: these are facts about one file — its name, its folder, its
format against its camera, its Software tag — each testable alone, while keepers.py decides how
they combine. Every function returns a rank, smaller for the file more likely to be the source.

- :func:`derived_name_marks` — names a copy gets: messenger names (``IMG-20210912-WA0003``),
  copy suffixes (`` (1)``, `` copy``, ``-copy``, `` - Kopie``), edit suffixes (``_edited``,
  ``IMG_E1203``); counted, so a copy of a copy ranks below the copy.
- :func:`in_download_folder` — a folder downloads, exports and messengers write to: the XDG
  download dir (``XDG_DOWNLOAD_DIR`` in ``$XDG_CONFIG_HOME/user-dirs.dirs``, so a localized
  ``~/Téléchargements`` counts), or a folder named like Downloads / Export / WhatsApp Images
  / Telegram on the way from the scanned folder to the file.
- :func:`camera_rank` — the camera's own EXIF (Make/Model) over a stripped copy; an editor's or
  messenger's Software tag loses either way.
- :func:`format_rank` — a format the camera writes over a conversion (RAW first; then the
  camera's native format: HEIC for an iPhone, JPEG for everyone else; a lossless file over a
  lossy one when neither has camera EXIF).
"""

from __future__ import annotations

import functools
import os
import re

from ..engine.files.discover import RAW_EXTENSIONS, RAW_FORMATS
from ..engine.files.exif_evidence import software_kind
from ..engine.model import FileEntry, ImageMeta

# ----------------------------------------------------------------------------- names

_MESSENGER_NAMES = re.compile(
    r"""^(?:
        (?:IMG|PTT)-\d{8}-WA\d+             # WhatsApp
      | photo_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d  # Telegram Desktop
      | signal-\d{4}-\d\d-\d\d-\d{6}        # Signal
      | FB_IMG_\d+ | received_\d+           # Facebook, Messenger
      | \d{6,}_\d{6,}_\d{6,}_[nobs]         # Facebook's served files
      | viber_image_\d{4}-\d\d-\d\d         # Viber
      | mmexport\d+                         # WeChat
      | Snapchat-\d+
      | IMG_E\d{4}                          # iOS: the edited version of IMG_1234
    )""",
    re.I | re.X,
)
_COPY_WORDS = r"copy|kopie|copie|copia|kopio|kopia|kopi|cópia|копия|副本|のコピー"
_EDIT_WORDS = r"edited|edit|bearbeitet|modifié|modifie|modificato|editado|retouched|resized"
#: One trailing marker; stripped repeatedly, so "a copy (1)" counts two.
_SUFFIX = re.compile(
    rf"""(?:
        \s*\(\d+\)                                   # "IMG_1203 (1)", "IMG_1203(2)"
      | \s+-\s+(?:{_COPY_WORDS})(?:\s*\(\d+\))?      # Windows: "IMG_1203 - Copy (2)"
      | [\s_-]+(?:{_COPY_WORDS})(?:[\s_-]*\d+)?      # macOS "IMG_1203 copy 2", "-copy"
      | [\s_(-]+(?:{_EDIT_WORDS})\)?                 # "_edited", "-edited", " (edited)"
    )$""",
    re.I | re.X,
)
_COPY_PREFIX = re.compile(r"^(?:copy of|kopie von|copie de|copia de)\s+", re.I)


def derived_name_marks(path: str) -> int:
    """How many copy/messenger/edit markers the file name carries (0 for a camera's name)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    marks = 0
    if _COPY_PREFIX.match(stem):
        marks += 1
        stem = _COPY_PREFIX.sub("", stem)
    while True:
        cut = _SUFFIX.sub("", stem, count=1)
        if cut == stem or not cut:
            break
        stem, marks = cut, marks + 1
    if _MESSENGER_NAMES.match(stem):
        marks += 1
    return marks


# ----------------------------------------------------------------------------- folders

#: Folder names (casefolded) that downloads, exports and messengers write to.
_DOWNLOAD_NAMES = frozenset(
    {"downloads", "download", "export", "exports", "exported", "signal", "messenger"}
)
#: Words that mark such a folder anywhere in its name ("WhatsApp Images", "Lightroom Export").
_DOWNLOAD_WORDS = re.compile(
    r"\b(?:whatsapp|telegram|viber|wechat|weixin|exports?|exported)\b", re.I
)


def _user_dirs_file() -> str:
    config = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(
        os.path.expanduser("~"), ".config"
    )
    return os.path.join(config, "user-dirs.dirs")


def xdg_download_dir() -> str | None:
    """``XDG_DOWNLOAD_DIR`` from ``user-dirs.dirs`` (``$HOME`` expanded); None when the file
    or the entry is missing, or when it is ``$HOME`` itself (the spec's "disabled")."""
    home = os.path.expanduser("~")
    return _read_download_dir(_user_dirs_file(), home)


@functools.lru_cache(maxsize=8)
def _read_download_dir(path: str, home: str) -> str | None:
    """Cached per (file, home): auto-select asks once per file of every group."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        m = re.match(r'^\s*XDG_DOWNLOAD_DIR\s*=\s*"(.*)"\s*$', line)
        if not m:
            continue
        value = re.sub(r"\\(.)", r"\1", m[1])
        if value.startswith("$HOME"):
            value = home + value[len("$HOME") :]
        elif not value.startswith("/"):
            return None  # the spec allows only $HOME/... or an absolute path
        value = os.path.normpath(value)
        return None if value == os.path.normpath(home) else value
    return None


def download_dirs() -> tuple[str, ...]:
    """The download folders: the XDG one if set, else ``~/Downloads``."""
    xdg = xdg_download_dir()
    return (xdg,) if xdg else (os.path.join(os.path.expanduser("~"), "Downloads"),)


def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep)
    return path.startswith(folder + os.sep)


def in_download_folder(entry: FileEntry) -> bool:
    """True for a file under the download dir, or under a folder named like a download,
    export or messenger folder between its scanned folder (included) and itself."""
    dirs = download_dirs()
    if any(_inside(entry.path, d) for d in dirs):
        return True
    names = set(_DOWNLOAD_NAMES) | {os.path.basename(d).casefold() for d in dirs}
    rel = os.path.dirname(entry.relpath)
    parts = [os.path.basename(entry.root.rstrip(os.sep))]
    if rel and not rel.startswith(".."):
        parts += rel.split(os.sep)
    return any(p.casefold() in names or _DOWNLOAD_WORDS.search(p) for p in parts if p)


# ----------------------------------------------------------------------------- EXIF and format

#: Formats a camera or phone writes; PNG, WebP, GIF and BMP with a camera's EXIF are conversions.
CAMERA_FORMATS = frozenset({"JPEG", "HEIF", "AVIF", "TIFF"})
LOSSLESS_FORMATS = frozenset({"PNG", "TIFF", "BMP"})


_RAW_NAMES = frozenset(RAW_FORMATS.values()) | {"RAW"}


def is_raw(entry: FileEntry, meta: ImageMeta | None = None) -> bool:
    """A RAW camera file: by what the decoder found when it is known (a JPEG misnamed
    ``.nef`` is a JPEG), else by the name."""
    if meta is not None and meta.format:
        return meta.format in _RAW_NAMES
    return os.path.splitext(entry.path)[1].lower() in RAW_EXTENSIONS


def camera_rank(meta: ImageMeta | None) -> int:
    """0: the camera's EXIF (Make/Model) and no editor/messenger Software tag; 1: camera EXIF
    kept by an editor; 2: no camera EXIF (stripped, or never had it); 3: stripped and
    tagged by an editor or messenger. Unknown metadata ranks as stripped."""
    if meta is None:
        return 2
    stripped = meta.camera is None
    return (2 if stripped else 0) + (1 if software_kind(meta.software) else 0)


def native_format(camera: str | None) -> str:
    """The format this camera writes by default: HEIC for an iPhone, JPEG for the rest."""
    return "HEIF" if camera and camera.casefold().startswith("apple") else "JPEG"


def format_rank(entry: FileEntry, meta: ImageMeta | None) -> int:
    """Smaller for the format more likely to be the original.

    0 RAW; with the camera's EXIF: 1 the camera's native format, 2 another format cameras
    write (a JPEG from an iPhone, a HEIC from a Nikon), 3 a format no camera writes (a PNG or
    WebP that kept the EXIF: a conversion); without: 4 lossless, 5 lossy (a lossless file
    loses nothing by being kept, a lossy copy of it does). Unknown metadata ranks last.
    """
    if is_raw(entry, meta):
        return 0
    if meta is None:
        return 6
    if meta.camera is not None:
        if meta.format == native_format(meta.camera):
            return 1
        return 2 if meta.format in CAMERA_FORMATS else 3
    return 4 if meta.format in LOSSLESS_FORMATS else 5
