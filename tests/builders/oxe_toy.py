"""A plain TFDS builder with Open X-Embodiment style keys unlike ours, for the RLDS import tests.

`observation/rgb` (24x24), `observation/joint_pos` (7), a 7-D action in [-2, 2] (the last dimension a
gripper in [0, 1]), `reward`, the RLDS flags, and the instruction in episode metadata, as many OXE
datasets lay them out. `build(data_dir, episodes)` writes it with `download_and_prepare`.
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

SIZE = 24


class OxeToy(tfds.core.GeneratorBasedBuilder):
    """Toy OXE-style RLDS dataset."""

    VERSION = tfds.core.Version("0.1.0")
    NUM_EPISODES = 5

    def _info(self):
        f = tfds.features
        return self.dataset_info_from_configs(features=f.FeaturesDict({
            "steps": f.Dataset({
                "observation": f.FeaturesDict({
                    "rgb": f.Image(shape=(SIZE, SIZE, 3), encoding_format="png"),
                    "joint_pos": f.Tensor(shape=(7,), dtype=np.float32),
                }),
                "action": f.Tensor(shape=(7,), dtype=np.float32),
                "reward": f.Scalar(dtype=np.float32),
                "is_first": f.Scalar(dtype=np.bool_),
                "is_last": f.Scalar(dtype=np.bool_),
                "is_terminal": f.Scalar(dtype=np.bool_),
            }),
            "episode_metadata": f.FeaturesDict({"instruction": f.Text(), "file_path": f.Text()}),
        }))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(self.NUM_EPISODES):
            rng = np.random.default_rng(i)
            n = 6 + i
            action = rng.uniform(-2, 2, (n, 7)).astype(np.float32)
            action[:, 6] = rng.uniform(0, 1, n)
            steps = [{"observation": {"rgb": np.full((SIZE, SIZE, 3), 10 * t + i, np.uint8),
                                      "joint_pos": rng.normal(size=7).astype(np.float32)},
                      "action": action[t], "reward": float(t == n - 1 and i % 2 == 0),
                      "is_first": t == 0, "is_last": t == n - 1, "is_terminal": t == n - 1}
                     for t in range(n)]
            yield f"ep{i}", {"steps": steps, "episode_metadata": {"instruction": f"pick block {i % 2}",
                                                                  "file_path": f"/raw/episode_{i}.h5"}}


def build(data_dir) -> str:
    builder = OxeToy(data_dir=str(data_dir))
    builder.download_and_prepare()
    return str(builder.data_dir)
