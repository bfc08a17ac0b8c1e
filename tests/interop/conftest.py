"""Session fixtures of the interop tests: the side environment and one small dataset of each kind.

Every dataset is built once per session the way a user builds it (the `tfds` and `rldg` command
lines, as subprocesses), then exported with `rldg finetune octo|openvla`; the consumers' code runs
once per consumer over all exports (one subprocess each: TensorFlow starts once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop import side_env

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RESIZE = (32, 32)
FIX = "tests.collectors.toy_env"
RECIPE = """name: {name}
seed: 3
val_fraction: 0.25
sources:
  rl: {{path: {rl}, weight: 0.5}}
  human: {{path: {human}, weight: 0.5}}
"""


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "builders"), str(REPO)]),
                TF_CPP_MIN_LOG_LEVEL="2", **extra)


def run(cmd: list[str], timeout: int = 600, **extra_env) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], cwd=REPO, env=_env(**extra_env), capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def require_side_env() -> Path:
    """.venv-interop's Python, created if missing; pytest skip saying why when it cannot be
    created, or pytest fail in CI (CI or RLDG_INTEROP_REQUIRED set), where skipping would hide it."""
    ready, _ = side_env.status()
    if not ready:
        try:
            side_env.create(os.environ.get("PYTHON", "python3"))
        except RuntimeError as exc:
            if side_env.required():
                pytest.fail(f"interop tests must run in CI but the side environment cannot be made: {exc}")
            pytest.skip(f"side environment .venv-interop unavailable: {exc}")
    return side_env.python_path()


@pytest.fixture(scope="session")
def side_python() -> Path:
    return require_side_env()


def _sources(root: Path, wrist: bool) -> tuple[Path, Path]:
    """Two contract datasets (rl, human) with 16x16 frames and, if asked, a wrist camera."""
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episodes

    rl = write_dataset(make_episodes(8, seed=11, image_size=16, wrist=wrist), root, "rl_src")
    human = write_dataset(make_episodes(8, seed=12, image_size=16, wrist=wrist), root, "human_src")
    return rl, human


def _collect_rollouts(logs: Path) -> None:
    """12 toy-task episodes from two collector runs (scripted expert, human proxy), in this process
    (what `rldg collect` runs; a subprocess would only add a TensorFlow start)."""
    from collectors.collect import CollectConfig, collect

    for policy, seed, n in (("expert", 0, 7), ("human", 100, 5)):
        collect(CollectConfig(out=str(logs / policy), task="toy", variant="a", policy=policy, episodes=n,
                              seed=seed, image_size=16, env_factory=f"{FIX}:make_env",
                              demonstrator_factory=f"{FIX}:make_policy"), in_process=True)


@pytest.fixture(scope="session")
def datasets(tmp_path_factory) -> dict[str, Path]:
    """Version folders of every kind of dataset the toolkit writes, keyed by kind:
    rldg_mix_wrist (`tfds build builders/rldg_mix --config custom`, wrist camera, val split),
    rldg_rollouts (`tfds build builders/rldg_rollouts` on collector logs, train only),
    rldg_mix_cli (`rldg mix RECIPE`), written (`rldg_data.io.writer.write_dataset`, as rldg import)."""
    root = tmp_path_factory.mktemp("interop")
    found = {}
    rl, human = _sources(root / "sources", wrist=True)
    recipe = root / "wrist_mix.yaml"
    recipe.write_text(RECIPE.format(name="wrist_mix", rl=rl, human=human))
    run([BIN / "tfds", "build", "builders/rldg_mix", "--config", "custom", "--data_dir", root / "tfds_mix"],
        RLDG_MIX_RECIPE=str(recipe))
    found["rldg_mix_wrist"] = next((root / "tfds_mix" / "rldg_mix").glob("*/1.0.0"))
    _collect_rollouts(root / "logs")
    run([BIN / "tfds", "build", "builders/rldg_rollouts", "--data_dir", root / "tfds_rollouts",
         "--manual_dir", root / "logs"])
    found["rldg_rollouts"] = next((root / "tfds_rollouts" / "rldg_rollouts").glob("*/1.0.0"))
    nowrist_rl, nowrist_human = _sources(root / "sources_nowrist", wrist=False)
    cli_recipe = root / "cli_mix.yaml"
    cli_recipe.write_text(RECIPE.format(name="cli_mix", rl=nowrist_rl, human=nowrist_human))
    run([BIN / "rldg", "mix", cli_recipe, "--data-dir", root / "mixes"])
    found["rldg_mix_cli"] = root / "mixes" / "cli_mix" / "1.0.0"
    found["written"] = nowrist_rl
    return found


def write_demo_mix(root: Path) -> Path:
    """A demo-shaped RLDG mix under `root`: 16 episodes of 20-24 steps (rl + human sources, variants
    vga and usb_c, so two instructions), 64x64 frames with a wrist camera, 4-D state and actions, a
    val split; made as users make one (the project's writer, then `rldg mix`). Returns its version
    folder (the Octo fine-tuning tests and benchmarks/bench_octo_finetune.py train on it)."""
    from rldg_data.io.writer import write_dataset
    from tests.factories import make_episode

    def episodes(seed: int, source: str) -> list:
        return [make_episode(f"{source}-{i}", length=20 + i % 5, image_size=64, seed=seed * 100 + i,
                             source=source, variant=("vga", "usb_c")[i % 2], split="seen", success=True,
                             wrist=True) for i in range(8)]

    rl = write_dataset(episodes(1, "rl"), root, "rl_src")
    human = write_dataset(episodes(2, "human"), root, "human_src")
    recipe = root / "mix.yaml"
    recipe.write_text(RECIPE.format(name="demo_mix", rl=rl, human=human))
    run([BIN / "rldg", "mix", recipe, "--data-dir", root / "mixes"])
    return root / "mixes" / "demo_mix" / "1.0.0"


@pytest.fixture(scope="session")
def demo_mix(tmp_path_factory) -> Path:
    """`write_demo_mix` once per session."""
    return write_demo_mix(tmp_path_factory.mktemp("demo_mix"))


@pytest.fixture(scope="session")
def octo_exports(datasets, tmp_path_factory) -> dict[str, Path]:
    """`rldg finetune octo` of three kinds: the first through the command line, the others by the
    function it calls (each subprocess costs a TensorFlow start)."""
    from rldg_data.exports.octo import export_octo

    out = tmp_path_factory.mktemp("octo_exports")
    run([BIN / "rldg", "finetune", "octo", datasets["rldg_mix_wrist"], "--out", out / "rldg_mix_wrist"])
    for kind in ("rldg_rollouts", "rldg_mix_cli"):
        export_octo(datasets[kind], out / kind)
    return {kind: out / kind for kind in ("rldg_mix_wrist", "rldg_rollouts", "rldg_mix_cli")}


@pytest.fixture(scope="session")
def openvla_exports(datasets, tmp_path_factory) -> dict[str, Path]:
    from rldg_data.exports.openvla import export_openvla

    out = tmp_path_factory.mktemp("openvla_exports")
    run([BIN / "rldg", "finetune", "openvla", datasets["rldg_mix_wrist"], "--out", out / "rldg_mix_wrist"])
    for kind in datasets:
        if kind != "rldg_mix_wrist":
            export_openvla(datasets[kind], out / kind)
    return {kind: out / kind for kind in datasets}


def run_consumer(side_python: Path, script: str, job: dict, workdir: Path, timeout: int = 600) -> dict:
    """Runs tests/interop/<script> in the side environment on `job`; returns its JSON output."""
    job_path, out_path = workdir / f"{script}.job.json", workdir / f"{script}.out.json"
    job_path.write_text(json.dumps(job))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", HOME=str(workdir), CUDA_VISIBLE_DEVICES="")
    res = subprocess.run([str(side_python), str(REPO / "tests" / "interop" / script), str(job_path), str(out_path)],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{script} failed in .venv-interop:\n{res.stdout[-2000:]}\n{res.stderr[-6000:]}"
    return json.loads(out_path.read_text())


@pytest.fixture(scope="session")
def octo_results(side_python, octo_exports, tmp_path_factory) -> dict:
    job = {"resize": list(RESIZE), "exports": [{"label": k, "export": str(v)} for k, v in octo_exports.items()]}
    return run_consumer(side_python, "octo_check.py", job, tmp_path_factory.mktemp("octo_run"))


@pytest.fixture(scope="session")
def openvla_results(side_python, openvla_exports, tmp_path_factory) -> dict:
    job = {"openvla_src": str(side_env.src_dir() / "openvla"),
           "exports": [{"label": k, "export": str(v)} for k, v in openvla_exports.items()]}
    return run_consumer(side_python, "openvla_check.py", job, tmp_path_factory.mktemp("openvla_run"))
