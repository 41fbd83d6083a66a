"""scapy is the lab's and live capture's: reading captures, scanning and evaluating never import it,
and without it the commands that need it say which extra to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import shared

#: Run first in each child: scapy reads as not installed (``find_spec`` None, imports fail).
WITHOUT_SCAPY = "import sys; sys.modules['scapy'] = None\n"


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_scanning_a_real_capture_and_evaluating_import_no_scapy() -> None:
    capture = shared("pcaps/http")
    code = (
        "import sys\n"
        "import tocsin.cli, tocsin.evaluation, tocsin.watch.service\n"
        "from tocsin.scan import ScanRequest, run_scan\n"
        "alerts = []\n"
        "summary = run_scan(ScanRequest(paths=[sys.argv[1]]), alerts.append)\n"
        "assert summary.read.events > 0, summary\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'scapy'))\n"
    )
    run = _python(code, str(capture))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_simulate_without_scapy_names_the_lab_extra(tmp_path: Path) -> None:
    code = WITHOUT_SCAPY + "from tocsin.cli import main; main()"
    run = _python(code, "simulate", "brute_force", "--seed", "1", "--out", str(tmp_path / "sim"))
    assert run.returncode == 2 and "internal error" not in run.stderr
    assert "pip install 'tocsin[lab]'" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "sim").exists()


def test_live_capture_without_scapy_names_the_capture_extra() -> None:
    code = WITHOUT_SCAPY + (
        "from tocsin.sources import ParseOptions\n"
        "from tocsin.watch.capture import CaptureError, LiveCapture\n"
        "try:\n"
        "    LiveCapture('lo', None, ParseOptions()).start()\n"
        "except CaptureError as exc:\n"
        "    print(exc)\n"
    )
    run = _python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "live capture needs scapy: pip install 'tocsin[capture]'"
