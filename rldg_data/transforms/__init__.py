"""Pure transforms of numpy `Episode`s, one file per family (like rlds/transformations).

No file system, no Beam, no globals: the same function runs in a unit test, in a Beam `Map`
(`rldg_data.mix` wraps them) and in a notebook.

- `filters`: predicates `Episode -> bool` (success, length, action bounds, metadata values).
- `rewards`: sparse reward from success, return-to-go.
- `language`: language instruction per variant from a template table.
- `stages`: stage labels from hand-off steps or from changes of `source`.
- `goals`: hindsight goal images.
- `actions`: relabel actions of some steps with a policy (human states + specialist actions).
- `stitch`: human segment up to the hand-off + specialist segment as one episode.
- `pauses`: drop the human steps without hand motion (human segments of hand-offs included).
- `segments`: steps per step source, and what a relabel removed from each segment.
- `dedup`: drop repeated `episode_id`s.
"""

from rldg_data.transforms.actions import relabel_actions
from rldg_data.transforms.dedup import dedup_by_id
from rldg_data.transforms.filters import (
    actions_within, length_between, metadata_in, step_sources_in, success_only)
from rldg_data.transforms.goals import hindsight_goal_images
from rldg_data.transforms.language import instruction_for, relabel_language
from rldg_data.transforms.pauses import trim_pauses
from rldg_data.transforms.rewards import relabel_sparse_reward, return_to_go
from rldg_data.transforms.stages import stages_from_handoffs, stages_from_sources
from rldg_data.transforms.segments import removed_per_source, steps_per_source
from rldg_data.transforms.stitch import stitch_handoff

__all__ = [
    "actions_within", "dedup_by_id", "hindsight_goal_images", "instruction_for", "length_between",
    "metadata_in", "relabel_actions", "relabel_language", "relabel_sparse_reward", "return_to_go",
    "removed_per_source", "stages_from_handoffs", "stages_from_sources", "step_sources_in",
    "steps_per_source", "stitch_handoff", "success_only", "trim_pauses",
]
