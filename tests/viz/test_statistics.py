"""The statistics table: the dataset's own dataset_statistics.json wins over computed numbers."""

from __future__ import annotations

import json

import numpy as np

from viz.statistics import compute_statistics, statistics_table


def test_computed_statistics_match_numpy(viz_view):
    table = statistics_table(viz_view)
    actions = viz_view.all_actions()
    assert table.origin == "computed from the dataset"
    assert table.num_transitions == len(actions)
    np.testing.assert_allclose(table.fields["action"]["mean"], actions.mean(0), rtol=1e-5)
    np.testing.assert_allclose(table.fields["action"]["q99"], np.quantile(actions, 0.99, axis=0), rtol=1e-5)
    assert len(table.rows()) == viz_view.action_dim + viz_view.state_dim


def test_dataset_statistics_file_is_shown_when_present(viz_view, tmp_path):
    import dataclasses

    stats = {"action": {"mean": [0.5] * 4, "std": [1] * 4, "min": [-1] * 4, "max": [1] * 4,
                        "p01": [-0.9] * 4, "p99": [0.9] * 4},
             "proprio": {k: [0.0] * 4 for k in ("mean", "std", "min", "max", "q01", "q99")},
             "num_transitions": 123, "num_trajectories": 7}
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "dataset_statistics.json").write_text(json.dumps(stats))
    table = statistics_table(dataclasses.replace(viz_view, path=str(folder)))
    assert table.origin.endswith("dataset_statistics.json")
    assert table.num_transitions == 123
    assert table.rows()[0] == ("action[0]", [0.5, 1.0, -1.0, 1.0, -0.9, 0.9])


def test_unusable_statistics_file_falls_back_to_computing(viz_view, tmp_path):
    import dataclasses

    (tmp_path / "dataset_statistics.json").write_text("{not json")
    table = statistics_table(dataclasses.replace(viz_view, path=str(tmp_path)))
    assert table.origin == "computed from the dataset"


def test_empty_input_gives_zeros():
    assert compute_statistics(np.zeros((0, 3)))["mean"].shape == (3,)
