"""Every benchmark script still imports: they run by hand, not in CI, so a name moved in the
package (flash_frames.py imported BRIGHTNESS_JUMP from where it no longer was) broke one unseen."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_the_script_imports(script: Path, monkeypatch):
    """Imported as `python benchmarks/NAME.py` runs it: its folder first on the path, for the
    scripts that share another's helpers (`import speed`)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, script.stem, module)  # as Python holds a running script
    spec.loader.exec_module(module)  # the scripts run their work under `if __name__ == "__main__"`
    assert callable(getattr(module, "main", None))
