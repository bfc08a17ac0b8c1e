"""Google's `rlds` library (0.1.8, in the main venv via rldg_data.compat.import_rlds) on every kind
of dataset the toolkit writes: episode lengths, `rlds.transformations.batch` windows and
`rlds.transformations.mean_and_std`, each against numpy on our own reader's episodes (rlds's std
is the sample standard deviation, n - 1, where Octo's and our statistics use the population one).

Needs no side environment: rlds runs on the project's TensorFlow.
"""

from __future__ import annotations

import numpy as np
import pytest

from rldg_data.contract import spec
from tests.interop.expected import episodes_by_split

KINDS = ("rldg_mix_wrist", "rldg_rollouts", "rldg_mix_cli", "written")
WINDOW = 3


@pytest.fixture(scope="module")
def rlds():
    """rlds, imported through compat (a placeholder `reverb`: the real one cannot load on TF 2.21)."""
    from rldg_data.compat import import_rlds

    return import_rlds()


@pytest.mark.parametrize("kind", KINDS)
def test_rlds_episode_lengths_batches_and_moments(kind, datasets, rlds):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    builder = tfds.builder_from_directory(str(datasets[kind]))
    ours = episodes_by_split(datasets[kind])
    assert set(ours) == set(builder.info.splits)
    for split, episodes in ours.items():
        by_id = {ep.episode_id: ep for ep in episodes}
        dataset = builder.as_dataset(split=split)
        seen = []
        for episode in dataset:
            eid = episode["episode_metadata"]["episode_id"].numpy().decode()
            ep = by_id[eid]
            length = int(rlds.transformations.episode_length(episode["steps"]))
            assert length == len(ep) == int(episode["episode_metadata"]["length"])
            windows = [w["action"].numpy() for w in rlds.transformations.batch(
                episode["steps"], size=WINDOW, shift=1, drop_remainder=True)]
            assert len(windows) == max(0, length - WINDOW + 1)
            for i, window in enumerate(windows):
                np.testing.assert_array_equal(window, ep.steps[spec.ACTION][i:i + WINDOW])
            seen.append(eid)
        assert sorted(seen) == sorted(by_id), f"{kind}/{split}: rlds saw other episodes"

        def fields(step):
            values = {"action": step["action"], "state": step["observation"]["state"]}
            return values, {"action": tf.constant(True), "state": tf.constant(True)}

        mean, std = rlds.transformations.mean_and_std(dataset, fields)
        for key, field in (("action", spec.ACTION), ("state", spec.STATE)):
            values = np.concatenate([ep.steps[field] for ep in episodes]).astype(np.float64)
            np.testing.assert_allclose(mean[key], values.mean(0), rtol=1e-6, atol=1e-9)
            # rlds divides by (count - 1): the sample standard deviation (Octo and ours: population)
            np.testing.assert_allclose(std[key], values.std(0, ddof=1), rtol=1e-5, atol=1e-9)
