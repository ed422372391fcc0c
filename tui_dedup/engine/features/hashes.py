"""Pure functions: a small decoded image → hash bits and histogram vectors.

Bit order (stable, versioned with the cache format): a hash of ``bits`` bits is the row-major
sequence of its boolean matrix, packed most-significant-bit first into ``words = ceil(bits/64)``
uint64 words, so the hex string of the words reads left-to-right in row-major order (the same
convention as the imagehash library's hex). Unused low bits of the last word are zero.

Histograms are stored as square roots of normalised histograms, so the Bhattacharyya
coefficient of two images — a similarity in [0, 1] — is a plain dot product, and all-pairs
comparison becomes a BLAS matrix product.
"""

from __future__ import annotations

import functools
import threading

import cv2
import numpy as np

HIST3_BINS = 32  # per channel
HIST1_BINS = 64
# Grey std (0..255 scale) of a 64×64 thumbnail below which hashes are noise. It was 3.0, which
# also shut out night skies (star fields: 0.8–1.8) and lost their copies; now that the verdict
# stage confirms every pair by its pixels, only truly flat frames are kept out.
LOW_DETAIL_STD = 0.6


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Boolean array (..., nbits) → uint64 words (..., words), MSB-first, zero-padded."""
    nbits = bits.shape[-1]
    words = (nbits + 63) // 64
    pad = words * 64 - nbits
    if pad:
        bits = np.concatenate([bits, np.zeros((*bits.shape[:-1], pad), bool)], axis=-1)
    packed = np.packbits(bits.astype(np.uint8), axis=-1)  # big-endian bytes
    return packed.view(">u8").astype(np.uint64).reshape(*bits.shape[:-1], words)


def unpack_bits(words: np.ndarray, nbits: int) -> np.ndarray:
    be = np.ascontiguousarray(words.astype(">u8"))
    return np.unpackbits(be.view(np.uint8), axis=-1)[..., :nbits].astype(bool)


def to_gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _area(gray: np.ndarray, w: int, h: int) -> np.ndarray:
    """INTER_AREA for downscales (INTER_LINEAR moves pHash by ~14 bits on big images)."""
    gh, gw = gray.shape[:2]
    interp = cv2.INTER_AREA if (gw >= w and gh >= h) else cv2.INTER_CUBIC
    return cv2.resize(gray, (w, h), interpolation=interp)


def dihedral(square: np.ndarray) -> list[np.ndarray]:
    """The eight rotations/mirrors, in the order of model.TRANSFORMS."""
    out: list[np.ndarray] = []
    for base in (square, square[:, ::-1]):
        out.extend(np.rot90(base, -k) for k in range(4))
    return out


def ahash_bits(small: np.ndarray) -> np.ndarray:
    """Average hash: brighter than the mean → 1. Input: N×N grey (float)."""
    return (small > small.mean()).reshape(-1)


def dhash_bits(small: np.ndarray) -> np.ndarray:
    """Difference hash: right neighbour brighter → 1. Input: N×(N+1) grey."""
    return (small[:, 1:] > small[:, :-1]).reshape(-1)


def phash_bits(small: np.ndarray, n: int) -> np.ndarray:
    """Perceptual hash: low-frequency DCT block above its median → 1. Input: 4N×4N grey."""
    coeffs = cv2.dct(small.astype(np.float32))[:n, :n]
    return (coeffs > np.median(coeffs)).reshape(-1)


#: How each dihedral variant (model.TRANSFORMS order) acts on 2-D DCT-II coefficients: the
#: DCT of a transformed image is the original's coefficients, maybe transposed, with the signs
#: of odd rows (u) and/or odd columns (v) flipped. Exact, so one DCT serves all eight pHashes.
_DCT_DIHEDRAL = (
    (False, False, False),
    (True, False, True),
    (False, True, True),
    (True, True, False),
    (False, False, True),
    (True, True, True),
    (False, True, False),
    (True, False, False),
)


_DCT_TRANSPOSED = np.array([t for t, _, _ in _DCT_DIHEDRAL])[:, None, None]


@functools.cache
def _variant_indices(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gathers for all eight variants at hash side ``n``.

    aHash: (8, n*n) indices into the n×n sample. dHash: (8, n*(n+1)) indices into the
    N×(N+1) sample followed by its transposed-grid (N+1)×N twin: a rotation by 90°/270°
    turns an N×(N+1) sample into (N+1)×N, so those variants resample from the transposed
    grid and every variant compares the same N×(N+1) layout. pHash: (8, n, n) signs per
    variant (:data:`_DCT_DIHEDRAL`; the transposes are :data:`_DCT_TRANSPOSED`).
    """
    a_idx = np.stack([v.ravel() for v in dihedral(np.arange(n * n).reshape(n, n))])
    plain = np.arange(n * (n + 1)).reshape(n, n + 1)
    turned = n * (n + 1) + np.arange(n * (n + 1)).reshape(n + 1, n)
    d_idx = []
    for k in range(8):
        src = plain if k % 2 == 0 else turned
        base = src[:, ::-1] if k >= 4 else src
        d_idx.append(np.rot90(base, -(k % 4)).ravel())
    odd = (np.arange(n) % 2).astype(bool)
    signs = np.ones((8, n, n), np.float32)
    for k, (_, flip_u, flip_v) in enumerate(_DCT_DIHEDRAL):
        if flip_u:
            signs[k, odd, :] *= -1
        if flip_v:
            signs[k, :, odd] *= -1
    return a_idx, np.stack(d_idx), signs


def _phash_variants(g4: np.ndarray, n: int) -> np.ndarray:
    """(8, n*n) pHash bits of every variant from one DCT (signs and transposes are exact)."""
    coeffs = cv2.dct(g4)[:n, :n]
    blocks = np.where(_DCT_TRANSPOSED, coeffs.T, coeffs) * _variant_indices(n)[2]
    flat = blocks.reshape(8, n * n)
    return flat > np.median(flat, axis=1, keepdims=True)


def hash_features(gray: np.ndarray, n: int, *, variants: bool = True) -> dict[str, np.ndarray]:
    """All three hashes, each as (K, words) uint64 with K = 8 dihedral variants (or 1).

    Variants are what a rotated/mirrored copy of the image hashes to, not bit permutations of
    the original hash (median, mean and neighbour order all move). aHash and dHash variants
    come from transformed pixels; pHash variants from the DCT's exact symmetries (one DCT).
    All eight come from one gather per hash: per-variant calls were most of this function's
    time, which is paid once per decoded file.
    """
    g4 = _area(gray, 4 * n, 4 * n).astype(np.float32)
    gn = _area(gray, n, n).astype(np.float32)
    gd = _area(gray, n + 1, n).astype(np.float32)
    if not variants:
        return {
            name: pack_bits(bits[None, :])
            for name, bits in (
                ("ahash", ahash_bits(gn)),
                ("dhash", dhash_bits(gd)),
                ("phash", phash_bits(g4, n)),
            )
        }
    gd_t = _area(gray, n, n + 1).astype(np.float32)  # for rotated dHash: same area, transposed
    a_idx, d_idx, _ = _variant_indices(n)
    # Every variant holds the same pixels, so the same mean (summed in memory order either way).
    ahashes = gn.ravel()[a_idx] > gn.mean()
    d = np.concatenate([gd.ravel(), gd_t.ravel()])[d_idx].reshape(8, n, n + 1)
    dhashes = (d[:, :, 1:] > d[:, :, :-1]).reshape(8, n * n)
    return {
        "ahash": pack_bits(ahashes),
        "dhash": pack_bits(dhashes),
        "phash": pack_bits(_phash_variants(g4, n)),
    }


def hist_bgr(image: np.ndarray) -> np.ndarray:
    """sqrt-normalised 3×32-bin BGR histogram (float32) of a BGR image."""
    h3 = np.concatenate(
        [cv2.calcHist([image], [c], None, [HIST3_BINS], [0, 256]).ravel() for c in range(3)]
    )
    return np.sqrt(h3 / max(h3.sum() / 3.0, 1.0) / 3.0).astype(np.float32)


def hist_grey(gray: np.ndarray) -> np.ndarray:
    """sqrt-normalised 64-bin grey histogram (float32)."""
    h1 = cv2.calcHist([gray], [0], None, [HIST1_BINS], [0, 256]).ravel()
    return np.sqrt(h1 / max(h1.sum(), 1.0)).astype(np.float32)


def histograms(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sqrt-normalised 3×32-bin BGR histogram and 64-bin grey histogram (float32)."""
    return hist_bgr(image), hist_grey(to_gray(image))


def detail_std(gray: np.ndarray) -> float:
    """Grey std of a 64×64 thumbnail: how far from flat the image is (see is_low_detail)."""
    return float(_area(gray, 64, 64).std())


def sharpness(gray: np.ndarray) -> float:
    """Laplacian variance, higher is sharper: image metadata (ImageMeta.sharpness), not a column."""
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def detail_and_sharpness(gray: np.ndarray) -> tuple[float, float]:
    """Grey std of a 64×64 thumbnail (flatness) and Laplacian variance (sharpness)."""
    return detail_std(gray), sharpness(gray)


def is_low_detail(std: float) -> bool:
    """Black frames, blank scans, flat colours: their hash bits are noise, so they would all
    pair with each other into one giant false group."""
    return std < LOW_DETAIL_STD


# Local features (ORB keypoints) for the crop-tolerant verification stage (engine.verify).
LOCAL_KEYPOINTS = 64  # at most this many per file: 64 × 36 B = 2.3 KB
LOCAL_ROW_BYTES = 36  # 32-byte ORB descriptor + x, y as big-endian uint16 fractions of the side
ORB_MIN_SIDE = 32  # a smaller picture has no keypoints to speak of (and ORB's pyramid fails)
_ORB = threading.local()


def _orb() -> cv2.ORB:
    """One detector per thread (an ORB object is not safe to share between threads)."""
    det = getattr(_ORB, "det", None)
    if det is None:
        # Small patches and a low FAST threshold: the image is only 64–128 px on its short side.
        det = cv2.ORB.create(
            nfeatures=LOCAL_KEYPOINTS,
            scaleFactor=1.3,
            nlevels=4,
            edgeThreshold=15,
            patchSize=15,
            fastThreshold=5,
        )
        _ORB.det = det
    return det


def local_features(gray: np.ndarray) -> np.ndarray:
    """ORB keypoints of the small decoded image as one compact (k, 36) uint8 array, k ≤ 64.

    Each row: the 32-byte binary descriptor, then x and y as big-endian uint16 fractions of the
    image width/height (0..65535), so a file's keypoints can be placed in its own full-size
    frame (``x * width``) without knowing the decode size. The strongest keypoints come first.
    Flat images give few or none (k may be 0).
    """
    h, w = gray.shape[:2]
    if min(h, w) < ORB_MIN_SIDE:  # ORB's pyramid fails on a sliver (a 1-px-tall banner)
        return np.zeros((0, LOCAL_ROW_BYTES), np.uint8)
    kps, des = _orb().detectAndCompute(np.ascontiguousarray(gray), None)
    if des is None or not kps:
        return np.zeros((0, LOCAL_ROW_BYTES), np.uint8)
    order = np.argsort([-k.response for k in kps], kind="stable")[:LOCAL_KEYPOINTS]
    pts = np.array([kps[k].pt for k in order], np.float64).reshape(-1, 2)
    frac = np.clip(np.rint(pts / [max(w - 1, 1), max(h - 1, 1)] * 65535), 0, 65535)
    xy = frac.astype(">u2").view(np.uint8).reshape(-1, 4)
    return np.ascontiguousarray(np.concatenate([des[order], xy], axis=1), dtype=np.uint8)


DENSE_SIDE = 64  # long side of the crop check's dense thumbnails (engine/matching/verify.py)


def dense_thumb(gray: np.ndarray) -> np.ndarray:
    """The grey image at DENSE_SIDE px on its long side (INTER_AREA), uint8."""
    h, w = gray.shape[:2]
    s = DENSE_SIDE / max(h, w, 1)
    size = (max(8, round(w * s)), max(8, round(h * s)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def crop_features(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the crop check keeps of one decoded picture: its ORB keypoints and its dense
    thumbnail (engine/matching/verify.py), made by the scan or, for a file the cache served,
    by the check itself."""
    return local_features(gray), dense_thumb(gray)


def split_local(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, 36) rows → descriptors (k, 32) uint8 and points (k, 2) float32 in [0, 1]."""
    des = np.ascontiguousarray(local[:, :32])
    xy = np.ascontiguousarray(local[:, 32:36]).view(">u2").astype(np.float32) / 65535.0
    return des, xy.reshape(-1, 2)


# Tile signature for the local-edit check (engine.tiles): a logo or caption stamped on a smooth
# picture moves its pHash by 16-24 bits, yet leaves almost every cell of a small grey thumbnail
# as it was. 12×12 cells (144 bytes a file) separate such copies from different pictures on the
# accuracy benchmark's tune half as well as 16×16 did; 8×8 loses margin.
TILE_SIDE = 12


def tile_signature(image: np.ndarray) -> np.ndarray:
    """The image as TILE_SIDE × TILE_SIDE grey cells (area means), row-major, uint8."""
    return tile_cells(to_gray(image))


def tile_cells(gray: np.ndarray) -> np.ndarray:
    """:func:`tile_signature` of an image already in grey."""
    cells = _area(gray, TILE_SIDE, TILE_SIDE)
    return np.ascontiguousarray(cells, dtype=np.uint8).reshape(TILE_SIDE * TILE_SIDE)


#: Bump when any feature's definition or bit order changes: cached rows of another version are
#: recomputed, never mixed. 2: local (ORB) features added to FeatureRow. 3: tile signature.
#: 4: the verdict stage's columns (pdq, chroma, info: engine/features/confirm_features.py).
FEATURE_VERSION = 4
VARIANTS = 8  # dihedral variants stored per hash


def extract(
    image: np.ndarray, hash_size: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, float, float]:
    """Everything matching needs from one decoded image: hashes, histograms, detail, sharpness."""
    gray = to_gray(image)
    hashes = hash_features(gray, hash_size, variants=True)
    h3, h1 = histograms(image)
    std, sharp = detail_and_sharpness(gray)
    return hashes, h3, h1, std, sharp
