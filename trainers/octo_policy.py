"""An Octo checkpoint as a policy of our simulated suite, served from Octo's own Python.

`OctoRemotePolicy(checkpoint, octo_python)` listens on a loopback port, starts
`octo_policy_server.py` in Octo's Python (which connects back), and has the `reset(seed)` /
`act(obs)` interface `trainers.generalist.evaluate.evaluate_policy` drives: every simulator
observation goes to the server, which answers with Octo's unnormalized action (see the server's
docstring for what of Octo's runs there). The one step left on our side is the inverse of our
export's standardize function: Octo's absolute gripper in [0, 1] back to the contract's +1 open /
-1 closed (`rldg_data.exports.octo_layout.unstandardize_action`).

`evaluate_octo` runs the rollouts in this process (the simulator renders here: nothing here
imports TensorFlow) and returns results in the same JSON form as `evaluate_generalist`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from rldg_data.errors import RldgError, UnavailableError
from rldg_data.exports.octo_layout import unstandardize_action
from trainers.external import check_external_python

SERVER = Path(__file__).resolve().with_name("octo_policy_server.py")
from trainers.octo_policy_server import receive, send  # noqa: E402  (the framing: numpy + stdlib only)


class OctoRemotePolicy:
    """reset/act over a loopback socket to an Octo checkpoint served in Octo's Python."""

    def __init__(self, checkpoint: str | os.PathLike, octo_python: str, *, seed: int = 0,
                 exec_horizon: int = 0, log: Optional[str | os.PathLike] = None, timeout: float = 900):
        from trainers.octo_launch import SETUP_HELP

        python = check_external_python(octo_python, "octo", SETUP_HELP)
        if not (Path(checkpoint) / "config.json").is_file():
            raise UnavailableError(f"{checkpoint} is not an Octo checkpoint folder (no config.json): pass "
                                   "the run folder finetune.py saved (runs/octo_finetune/<run>)")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(timeout)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES=env.get("CUDA_VISIBLE_DEVICES", ""))
        self._log = open(log, "w") if log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [python, str(SERVER), str(Path(checkpoint).resolve()), str(listener.getsockname()[1]),
             "--seed", str(seed), "--exec-horizon", str(exec_horizon)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.sock, _ = listener.accept()
        except socket.timeout as exc:
            self.close()
            raise RldgError(f"the Octo policy server did not connect within {timeout:.0f} s"
                            + (f" (log: {log})" if log else "")) from exc
        finally:
            listener.close()
        self.sock.settimeout(timeout)
        header, _ = receive(self.sock)
        if header.get("op") != "hello":
            self.close()
            raise RldgError(f"the Octo policy server failed to load {checkpoint}: {header.get('message')}")
        self.info = header
        self.decisions = 0
        self._started = False

    def reset(self, seed: Optional[int] = None) -> None:
        self._started = False

    def act(self, obs: dict) -> np.ndarray:
        arrays = {"image": obs["image"], "state": np.asarray(obs["state"], np.float32)}
        if "wrist_image" in obs:
            arrays["wrist_image"] = obs["wrist_image"]
        send(self.sock, {"op": "step" if self._started else "reset"}, arrays)
        self._started = True
        header, out = receive(self.sock)
        if header.get("op") != "action":
            raise RldgError(f"the Octo policy server failed: {header.get('message')}")
        return unstandardize_action(np.array(out["action"], np.float64))

    def close(self) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:
            try:
                send(sock, {"op": "close"})
            except OSError:
                pass
            sock.close()
            self.sock = None
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()


def evaluate_octo(checkpoint: str | os.PathLike, octo_python: str, task: str,
                  variants: str | Sequence[str] = "seen", episodes: int = 10, *, seed: int = 0,
                  image_size: int = 64, wrist: bool = True, exec_horizon: int = 0,
                  max_steps: Optional[int] = None, out: Optional[str | os.PathLike] = None,
                  log: Optional[str | os.PathLike] = None,
                  progress: Optional[Callable[[int], None]] = None) -> dict:
    """Success with 95% intervals and cycle times of an Octo checkpoint, as `evaluate_generalist`
    reports them (same JSON and .md table), plus the policy's decision rate and chunking."""
    from rldg_data.io.atomic import write_text_atomic
    from trainers.generalist.evaluate import evaluate_policy, results_table

    policy = OctoRemotePolicy(checkpoint, octo_python, seed=seed, exec_horizon=exec_horizon, log=log)
    try:
        results = evaluate_policy(policy, task, variants, episodes, seed=seed, image_size=image_size,
                                  wrist=wrist, max_steps=max_steps, progress=progress)
    finally:
        policy.close()
    info = policy.info
    results.update(checkpoint=f"octo:{checkpoint}", open_loop=info["exec_horizon"] == info["action_horizon"],
                   octo={"window": info["window"], "action_horizon": info["action_horizon"],
                         "exec_horizon": info["exec_horizon"],
                         "decisions_per_step": 1.0 / info["exec_horizon"],
                         "image_sizes": info["image_sizes"], "action_dim": info["action_dim"]})
    if out is not None:
        write_text_atomic(Path(out), json.dumps(results, indent=2, sort_keys=True))
        write_text_atomic(Path(out).with_suffix(".md"), results_table(results))
    return results
