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


def _run(nb_path: Path, env: dict) -> list[str]:
    """Executes one notebook with `env` set; returns its printed text."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(nb_path, as_version=4)
    patch = pytest.MonkeyPatch()
    for k, v in env.items():
        patch.setenv(k, v)
    try:
        NotebookClient(nb, kernel_name=KERNEL, timeout=180,
                       resources={"metadata": {"path": str(nb_path.parents[2])}}).execute()
    finally:
        patch.undo()
    return ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "stream"]


def test_compare_sources_compares_whichever_sources_are_present(kernel_env, tmp_path):
    """Issue 22 #7: a human + scripted mix is compared, not "lacks rl or human"."""
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    episodes = [make_episode(f"{s}-{i}", length=4 + i + (3 if s == "human" else 0), seed=i, source=s)
                for s in ("human", "scripted") for i in range(3)]
    data = write_dataset(episodes, tmp_path / "data", "hs")
    text = "\n".join(_run(NOTEBOOKS[0].with_name("compare_sources.ipynb"), {"RLDG_DATASET": str(data)}))
    assert "human vs scripted" in text and "lacks" not in text, text


def test_notebooks_default_dataset_is_a_path_the_demo_writes(tmp_path):
    """Without RLDG_DATASET the notebooks look where `make demo` puts its RL + human mix; the
    pattern they name must match the folder the demo's stage cache creates."""
    import fnmatch
    import re

    from trainers.demo.cache import StageCache

    stage = StageCache(tmp_path / "runs" / "demo" / "cache").path("mix-demo_rl_vs_human", {"recipe": {}})
    written = (stage / "data" / "rldg_mix").relative_to(tmp_path).as_posix()
    demo = (Path(__file__).resolve().parents[2] / "trainers" / "demo" / "pipeline.py").read_text()
    assert "f\"mix-{recipe['name']}\"" in demo and '"name": "demo_rl_vs_human"' in demo
    assert 'tfds_build("rldg_mix", tmp / "data"' in demo
    opening_the_demo = [nb for nb in NOTEBOOKS if "DEMO_MIX" in nb.read_text()]
    assert opening_the_demo
    for nb in opening_the_demo:
        pattern = re.search(r'DEMO_MIX = "([^"]+)"', nb.read_text().replace('\\"', '"')).group(1)
        assert fnmatch.fnmatch(written, pattern), (nb.name, written, pattern)


def test_notebooks_execute_as_readme_says_without_rldg_dataset(tmp_path):
    """Issue 33: README's command (`jupyter execute viz/notebooks/<name>.ipynb`, which is installed)
    runs both notebooks with the kernel in viz/notebooks and no RLDG_DATASET: they find `make
    demo`'s mix from there, and keep their GIFs under runs/notebooks/videos (not a temp folder)."""
    import os
    import shutil
    import subprocess

    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    readme = (NOTEBOOKS[0].parents[2] / "README.md").read_text()
    assert "jupyter execute viz/notebooks/explore_dataset.ipynb" in readme
    repo = tmp_path / "clone"
    (repo / "viz" / "notebooks").mkdir(parents=True)
    for nb in [p for p in NOTEBOOKS if p.stem in ("explore_dataset", "compare_sources")]:
        shutil.copy(nb, repo / "viz" / "notebooks" / nb.name)
    episodes = [make_episode(f"{s}-{i}", length=5 + i, seed=i, source=s) for s in ("rl", "human") for i in range(2)]
    write_dataset(episodes, repo / "runs/demo/cache/mix-demo_rl_vs_human-0a1b2c/data/rldg_mix", "demo_rl_vs_human")
    env = {k: v for k, v in os.environ.items() if k != "RLDG_DATASET"}
    jupyter = Path(sys.executable).with_name("jupyter")
    for name in ("explore_dataset", "compare_sources"):
        res = subprocess.run([str(jupyter), "execute", f"viz/notebooks/{name}.ipynb"], cwd=repo, env=env,
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
    gifs = list((repo / "runs" / "notebooks" / "videos").glob("*.gif"))
    assert gifs, "explore_dataset keeps its GIFs under runs/notebooks/videos"
