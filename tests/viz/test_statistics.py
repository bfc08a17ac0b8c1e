"""The statistics table: the toolkit's statistics of the trainer's split, stale files flagged."""

from __future__ import annotations

import json

import numpy as np

from rldg_data.stats.dataset import dataset_statistics
from viz.statistics import statistics_table


def test_table_holds_the_toolkit_statistics(viz_view, viz_episodes):
    table = statistics_table(viz_view)
    actions = np.concatenate([e.actions[:-1] for e in viz_episodes]).astype(np.float64)
    assert table.statistics == dataset_statistics(viz_view.path)
    assert table.num_transitions == len(actions) == viz_view.summary.transitions
    assert table.num_steps == viz_view.summary.steps
    np.testing.assert_allclose(table.fields["action"]["mean"], actions.mean(0), atol=1e-9)
    np.testing.assert_allclose(table.fields["action"]["q99"], np.quantile(actions, 0.99, axis=0),
                               rtol=0.005, atol=1e-6)
    assert "split train" in table.origin and "stale" not in table.origin
    assert len(table.rows()) == viz_view.action_dim + viz_view.state_dim


def test_a_statistics_file_with_other_numbers_is_flagged(viz_view, tmp_path):
    import dataclasses

    folder = tmp_path / "ds"
    folder.mkdir()
    stale = json.loads(json.dumps(viz_view.statistics))
    stale["num_transitions"] += len(viz_view.rows)  # counted with each last step, as before
    (folder / "dataset_statistics.json").write_text(json.dumps(stale))
    table = statistics_table(dataclasses.replace(viz_view, path=str(folder)))
    assert "stale" in table.origin and table.statistics == viz_view.statistics
    (folder / "dataset_statistics.json").write_text(json.dumps(viz_view.statistics))
    assert "stale" not in statistics_table(dataclasses.replace(viz_view, path=str(folder))).origin
