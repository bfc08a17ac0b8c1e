"""The report's cycle-time histogram is not the episode-length one (issue 33): it counts the steps
to the first success reward of successful episodes, in seconds when the dataset records its rate."""

from __future__ import annotations

import json

from rldg_data.contract import spec
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode
from viz.dataset_views import lengths_figure
from viz.scan import collect_dataset_view


def _filled_bars(ax) -> list[tuple[float, float]]:
    return [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches if p.get_height() > 0]


def test_cycle_time_is_steps_to_success_and_seconds_with_a_rate(tmp_path):
    episodes = []
    for i in range(3):
        ep = make_episode(f"ep-{i}", length=12, seed=i, source="rl", success=True)
        ep.steps[spec.REWARD][:] = 0.0
        ep.steps[spec.REWARD][3 + i] = 1.0   # done at step 3 + i; the episode goes on to 12 steps
        episodes.append(ep)
    folder = write_dataset(episodes, tmp_path, "goes_on")
    view = collect_dataset_view(folder, samples_per_source=0)
    assert sorted(r.cycle_steps for r in view.rows) == [4, 5, 6] and {r.length for r in view.rows} == {12}
    fig = lengths_figure(view)
    lengths_ax, cycle_ax = fig.axes[:2]
    assert all(lo <= 12 <= hi + 1e-9 or lo >= 11 for lo, hi in _filled_bars(lengths_ax))
    assert all(hi <= 7 for _, hi in _filled_bars(cycle_ax)) and "steps" in cycle_ax.get_xlabel()
    (folder / "metadata.json").write_text(json.dumps({"fps": 10}))
    fig = lengths_figure(collect_dataset_view(folder, samples_per_source=0))
    cycle_ax = fig.axes[1]
    assert cycle_ax.get_xlabel() == "seconds"
    edges = _filled_bars(cycle_ax)
    assert min(lo for lo, _ in edges) >= 0.35 and 0.6 <= max(hi for _, hi in edges) <= 0.7  # 0.4-0.6 s
