"""Serves an Octo checkpoint to our simulator: Octo's own model, wrappers and unnormalization.

    OCTO_PYTHON trainers/octo_policy_server.py CHECKPOINT PORT [--seed S] [--exec-horizon N]

Runs in Octo's Python (started by `trainers.octo_policy.OctoRemotePolicy`), so it imports nothing
of rldg. It connects to 127.0.0.1:PORT, where our Python listens, and answers one action per
observation. What runs is what Octo's eval scripts (examples/03_eval_finetuned.py) run:
`OctoModel.load_pretrained`, Octo's gym wrappers `ResizeImageWrapper` (to the checkpoint's image
sizes, no crop: our export trains without augmentation), `NormalizeProprio` (the checkpoint's
statistics), `HistoryWrapper` (the checkpoint's window), and `OctoModel.sample_actions` with
`unnormalization_statistics=model.dataset_statistics["action"]` (its mask included). The wrappers
sit on a proxy environment whose observations are the ones our simulator sends. As Octo's
`RHCWrapper`, a chunk of `action_horizon` actions (the checkpoint's action head) is predicted
every `exec_horizon` steps (default: the whole chunk) and executed in order.

Messages (no pickle): a 4-byte big-endian length, a JSON header, then the raw bytes of the arrays
it lists as {"name": [dtype, shape]} in order. Requests: {"op": "reset"} or {"op": "step"} with
arrays image, wrist_image (optional) and state; {"op": "close"}. Replies: {"op": "action"} with
array action (unnormalized, the checkpoint's action space), or {"op": "error", "message"}.
The first message, from the server, is {"op": "hello"} with the checkpoint's window,
action_horizon, exec_horizon, image sizes and action dimension.
"""

import sys

# Run as a script, sys.path[0] is this file's folder, trainers/, whose modules Octo's imports must
# not see (our Python imports this module only for send/receive: numpy and stdlib).
if __name__ == "__main__":
    del sys.path[0]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402


def send(sock, header: dict, arrays: dict = None) -> None:
    import numpy as np

    arrays = {k: np.ascontiguousarray(v) for k, v in (arrays or {}).items()}
    header = dict(header, arrays={k: [str(v.dtype), list(v.shape)] for k, v in arrays.items()})
    body = json.dumps(header).encode()
    sock.sendall(struct.pack(">I", len(body)) + body + b"".join(v.tobytes() for v in arrays.values()))


def _exact(sock, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        data.extend(chunk)
    return bytes(data)


def receive(sock) -> tuple:
    import numpy as np

    (size,) = struct.unpack(">I", _exact(sock, 4))
    header = json.loads(_exact(sock, size))
    arrays = {}
    for name, (dtype, shape) in header.pop("arrays", {}).items():
        count = int(np.prod(shape)) * np.dtype(dtype).itemsize
        arrays[name] = np.frombuffer(_exact(sock, count), dtype=dtype).reshape(shape)
    return header, arrays


class OctoServer:
    """One episode at a time: the wrapped proxy environment, the current chunk and its position."""

    def __init__(self, checkpoint: str, seed: int = 0, exec_horizon: int = 0):
        import gym
        import jax
        import numpy as np
        from octo.model.octo_model import OctoModel
        from octo.utils.gym_wrappers import HistoryWrapper, NormalizeProprio, ResizeImageWrapper

        self.model = OctoModel.load_pretrained(checkpoint)
        stats = self.model.dataset_statistics
        if "action" not in stats:
            raise ValueError(f"{checkpoint}: dataset_statistics.json has no 'action' entry (a multi-dataset "
                             f"checkpoint: keys {sorted(stats)}); evaluate a fine-tuned checkpoint")
        self.unnorm = stats["action"]
        observation = self.model.example_batch["observation"]
        self.window = int(observation["timestep_pad_mask"].shape[1])
        head = self.model.config["model"]["heads"]["action"]["kwargs"]
        self.horizon = int(head.get("action_horizon", 1))
        self.exec_horizon = exec_horizon or self.horizon
        if not 1 <= self.exec_horizon <= self.horizon:
            raise ValueError(f"exec_horizon {self.exec_horizon} outside 1..{self.horizon}")
        self.sizes = {k.removeprefix("image_"): tuple(int(s) for s in observation[k].shape[2:4])
                      for k in observation if k.startswith("image_")}
        proxy = _ProxyEnv(gym, np, self.sizes, len(stats["proprio"]["mean"]) if "proprio" in stats else 0)
        self.proxy = proxy
        env = ResizeImageWrapper(proxy, resize_size=self.sizes, augmented_keys=())
        env = NormalizeProprio(env, stats)
        self.env = HistoryWrapper(env, self.window)
        self.rng = jax.random.PRNGKey(seed)
        self.jax, self.np = jax, np
        self.task = (self.model.create_tasks(texts=[""]) if self.model.text_processor is not None
                     else {"pad_mask_dict": {}})
        self.chunk, self.position = None, 0

    def hello(self) -> dict:
        return {"op": "hello", "window": self.window, "action_horizon": self.horizon,
                "exec_horizon": self.exec_horizon, "image_sizes": self.sizes,
                "action_dim": len(self.unnorm["mean"]), "text_processor": self.model.text_processor is not None}

    def _observation(self, arrays: dict) -> dict:
        obs = {"image_primary": arrays["image"]}
        if "wrist" in self.sizes:
            wrist = arrays.get("wrist_image")
            obs["image_wrist"] = wrist if wrist is not None else self.np.zeros_like(arrays["image"])
        if self.proxy.proprio_dim:
            obs["proprio"] = arrays["state"].astype(self.np.float32)
        return obs

    def _decide(self, history: dict):
        self.rng, key = self.jax.random.split(self.rng)
        batch = self.jax.tree_map(lambda x: x[None], history)
        actions = self.model.sample_actions(batch, self.task, unnormalization_statistics=self.unnorm, rng=key)
        self.chunk, self.position = self.np.asarray(actions[0]), 0

    def act(self, op: str, arrays: dict):
        self.proxy.pending = self._observation(arrays)
        if op == "reset":
            history, _ = self.env.reset()
            self._decide(history)
        else:
            history, *_ = self.env.step(self.chunk[self.position])
            self.position += 1
            if self.position >= self.exec_horizon:
                self._decide(history)
        return self.chunk[self.position]


def _ProxyEnv(gym, np, sizes: dict, proprio_dim: int):
    """A gym.Env whose reset/step return the observation our simulator last sent."""

    class ProxyEnv(gym.Env):
        def __init__(self):
            spaces = {f"image_{k}": gym.spaces.Box(0, 255, (1, 1, 3), np.uint8) for k in sizes}
            if proprio_dim:
                spaces["proprio"] = gym.spaces.Box(-np.inf, np.inf, (proprio_dim,), np.float32)
            self.observation_space = gym.spaces.Dict(spaces)
            self.proprio_dim = proprio_dim
            self.pending = None

        def reset(self, **kwargs):
            return dict(self.pending), {}

        def step(self, action):
            return dict(self.pending), 0.0, False, False, {}

    return ProxyEnv()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exec-horizon", type=int, default=0, help="actions executed per chunk (default: all)")
    args = parser.parse_args(argv)
    sock = socket.create_connection((args.host, args.port), timeout=600)
    sock.settimeout(None)
    try:
        server = OctoServer(args.checkpoint, args.seed, args.exec_horizon)
    except Exception as exc:  # reported to the client, which raises it with this message
        send(sock, {"op": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    send(sock, server.hello())
    while True:
        header, arrays = receive(sock)
        if header["op"] == "close":
            return 0
        try:
            action = server.act(header["op"], arrays)
        except Exception as exc:
            send(sock, {"op": "error", "message": f"{type(exc).__name__}: {exc}"})
            return 1
        send(sock, {"op": "action"}, {"action": action.astype("float32")})


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
