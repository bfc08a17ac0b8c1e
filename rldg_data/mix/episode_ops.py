"""One recipe source's filters and relabels applied to one episode (pure; Beam DoFns call these)."""

from __future__ import annotations

from rldg_data.errors import RecipeError
from rldg_data.contract.episode import Episode
from rldg_data.mix.recipe import FilterConfig, RelabelConfig
from rldg_data.transforms import filters as F
from rldg_data.transforms.actions import relabel_actions
from rldg_data.transforms.language import relabel_language
from rldg_data.transforms.pauses import trim_pauses
from rldg_data.transforms.rewards import relabel_sparse_reward
from rldg_data.transforms.stages import stages_from_sources


def passes_filters(episode: Episode, cfg: FilterConfig) -> bool:
    """True when the episode passes every filter the config sets."""
    if cfg.success_only and not F.success_only(episode):
        return False
    if not F.length_between(episode, cfg.min_length, cfg.max_length):
        return False
    if cfg.action_bound is not None and not F.actions_within(episode, cfg.action_bound):
        return False
    for field, allowed in (("task", cfg.tasks), ("variant", cfg.variants), ("split", cfg.splits)):
        if allowed is not None and not F.metadata_in(episode, field, allowed):
            return False
    return cfg.step_sources is None or F.step_sources_in(episode, cfg.step_sources)


def apply_relabels(episode: Episode, cfg: RelabelConfig, policy=None) -> Episode:
    """Applies the configured relabels in a fixed order: pauses, actions, reward, language, stages."""
    if cfg.trim_pauses:
        episode = trim_pauses(episode)
    if cfg.actions is not None:
        if policy is None:
            raise RecipeError("an action relabel needs its policy loaded")
        episode = relabel_actions(episode, policy, cfg.actions.sources)
    if cfg.sparse_reward:
        episode = relabel_sparse_reward(episode)
    if cfg.language:
        episode = relabel_language(episode, dict(cfg.language))
    if cfg.stages == "from_sources":
        episode = stages_from_sources(episode)
    return episode


def needs_decoded_images(cfg: RelabelConfig) -> bool:
    return cfg.actions is not None and cfg.actions.decode_images
