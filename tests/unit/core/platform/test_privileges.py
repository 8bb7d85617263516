"""Jobs leave root for uid 10001 when it can do their work, and stay root (saying why) when a
mounted folder needs it. Each case runs in a child process: dropping root cannot be undone."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dropping root needs root (CI runs as root)")
PROBE = """
import os, sys
from pathlib import Path
from attrition.core.platform.privileges import drop_root
note = drop_root(reads=[Path(sys.argv[1])], writes=[Path(sys.argv[2])])
print(os.getuid(), os.geteuid(), os.getgid(), note)
"""


@pytest.fixture()
def tmp_path():
    """A folder uid 10001 can reach (pytest's own sit below a folder only root may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="attrition-privileges-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def probe(reads, writes) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(reads), str(writes)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "container" / "program")}, check=True)
    return done.stdout.split(" ", 3)


def test_root_is_left_for_good_when_uid_10001_can_do_the_work(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "data.csv").write_text("a,b\n")
    (tmp_path / "out").mkdir(mode=0o777)
    tmp_path.chmod(0o755)
    (tmp_path / "out").chmod(0o777)
    uid, euid, gid, note = probe(tmp_path / "in", tmp_path / "out" / "model")
    assert (uid, euid, gid, note.strip()) == ("10001", "10001", "10001", "")


def test_root_is_kept_when_a_folder_only_root_may_write(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    uid, euid, _, note = probe(tmp_path / "in", tmp_path / "out")
    assert (uid, euid) == ("0", "0") and note.strip() == f"runs as root: uid 10001 cannot write {tmp_path / 'out'}"


def test_root_is_kept_when_the_input_is_unreadable(tmp_path):
    (tmp_path / "in").mkdir(mode=0o700)
    (tmp_path / "out").mkdir()
    (tmp_path / "out").chmod(0o777)
    tmp_path.chmod(0o755)
    uid, _, _, note = probe(tmp_path / "in", tmp_path / "out")
    assert uid == "0" and note.strip().startswith("runs as root: uid 10001 cannot read")
