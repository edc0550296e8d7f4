"""create_tarball.sh: handin.tar holds mytorch/ and hw1/ only, and grades like the original.

Every test works on a copy of the project in a temporary folder, so the working
tree (and any handin.tar in it) is never touched.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLOT = Path("hw1") / "validation_accuracy.png"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
# Made when Python or the tools run in the project: never part of a copy.
IGNORE = shutil.ignore_patterns(".git", ".venv*", ".v", "__pycache__", ".pytest_cache",
                                ".benchmarks", "handin.tar")


def copy_project(destination):
    shutil.copytree(str(ROOT), str(destination), ignore=IGNORE, symlinks=True)
    (destination / "hw1").mkdir(exist_ok=True)
    if not (destination / "hw1" / "mnist.py").exists():
        (destination / "hw1" / "mnist.py").write_text('"""placeholder for hw1/mnist.py"""\n')
    return destination


def run(args, cwd):
    environment = dict(os.environ, PYTHON=sys.executable)
    return subprocess.run([str(a) for a in args], cwd=str(cwd), capture_output=True, text=True,
                          timeout=120, env=environment)


def make_tarball(project, with_plot):
    """Run create_tarball.sh from another folder; return (result, member names)
    (directories end with "/", as tar -t lists them)."""
    plot = project / PLOT
    if with_plot:
        plot.write_bytes(PNG)
    elif plot.exists():
        plot.unlink()
    result = run(["bash", project / "create_tarball.sh"], project.parent)
    assert result.returncode == 0, result.stderr
    with tarfile.open(str(project / "handin.tar")) as tar:
        return result, [m.name + "/" if m.isdir() else m.name for m in tar.getmembers()]


@pytest.fixture
def project(tmp_path):
    """A copy of the project with clutter the tarball must leave out."""
    copy = copy_project(tmp_path / "project")
    for clutter in ("mytorch/__pycache__/tensor.cpython-311.pyc", "mytorch/nn/stale.pyc",
                    "hw1/__pycache__/mnist.cpython-311.pyc", "hw1/data/train_data.npy",
                    "hw1/val_labels.npy", "hw1/cache.npz"):
        (copy / clutter).parent.mkdir(parents=True, exist_ok=True)
        (copy / clutter).write_bytes(b"clutter")
    return copy


def test_tarball_packs_mytorch_and_hw1_with_the_plot_and_nothing_else(project):
    result, names = make_tarball(project, with_plot=True)
    assert "warning" not in result.stderr
    files = {n for n in names if not n.endswith("/")}
    sources = {p.relative_to(project).as_posix() for d in ("mytorch", "hw1")
               for p in (project / d).rglob("*") if p.is_file()}
    assert files == {s for s in sources if "__pycache__" not in s and "data/" not in s
                     and not s.endswith((".pyc", ".npy", ".npz"))}
    assert {"mytorch/tensor.py", "mytorch/nn/functional.py", "hw1/mnist.py",
            PLOT.as_posix()} <= files
    for name in names:
        assert name.split("/")[0] in ("mytorch", "hw1"), name
        assert "__pycache__" not in name and not name.endswith((".pyc", ".npy", ".npz")), name
        assert "data" not in name.split("/") and "autograder" not in name, name
    listed = [line.strip() for line in result.stdout.splitlines()[1:]]
    assert sorted(listed) == sorted(names)                      # it lists what it packed


def test_tarball_warns_when_the_plot_is_missing(project):
    result, names = make_tarball(project, with_plot=False)
    assert "warning" in result.stderr and "validation_accuracy.png" in result.stderr
    assert "./grade.sh m" in result.stderr
    assert PLOT.as_posix() not in names and "mytorch/tensor.py" in names


def test_the_extracted_submission_grades_like_the_original(project, tmp_path):
    make_tarball(project, with_plot=True)
    fresh = copy_project(tmp_path / "fresh")
    for handed_in in ("mytorch", "hw1"):               # only the tarball's copy may count
        shutil.rmtree(str(fresh / handed_in))
    with tarfile.open(str(project / "handin.tar")) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(str(fresh), filter="data")
        else:
            tar.extractall(str(fresh))
    assert (fresh / PLOT).read_bytes() == PNG

    original, submitted = run(["bash", ROOT / "grade.sh", "1"], ROOT), \
        run(["bash", fresh / "grade.sh", "1"], tmp_path)
    assert submitted.returncode == original.returncode == 0, submitted.stdout
    last = [r.stdout.strip().splitlines() for r in (original, submitted)]
    assert json.loads(last[1][-1]) == json.loads(last[0][-1])
    assert "Total score: 100/100" in last[0] and "Total score: 100/100" in last[1]
