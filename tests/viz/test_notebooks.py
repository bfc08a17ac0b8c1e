"""The notebooks in viz/notebooks run top to bottom against a tiny dataset (executed, not parsed).

The kernel is this interpreter (a kernelspec written to a temporary JUPYTER_PATH), so the test
works in a fresh clone's venv without `ipykernel install`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "viz" / "notebooks").glob("*.ipynb"))
KERNEL = "rldg-test-python"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory, viz_dataset):
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rldg test python", "language": "python"}))
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(root))
    patch.setenv("RLDG_DATASET", str(viz_dataset))
    patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    yield root
    patch.undo()


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"explore_dataset.ipynb", "compare_sources.ipynb"}


def test_notebooks_run_top_to_bottom(kernel_env):
    """Both notebooks execute at once (two kernels): kernel start-up and imports overlap."""
    import asyncio

    import nbformat
    from nbclient import NotebookClient

    books = {p.stem: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
    clients = [NotebookClient(nb, kernel_name=KERNEL, timeout=180,
                              resources={"metadata": {"path": str(NOTEBOOKS[0].parents[2])}})
               for nb in books.values()]

    async def run_all():
        await asyncio.gather(*(c.async_execute() for c in clients))

    asyncio.run(run_all())  # a failing cell raises CellExecutionError naming it
    for name, nb in books.items():
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], name
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) >= 3, f"{name} should show its figures"
