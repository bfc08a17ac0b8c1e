"""Language relabels: one instruction per (task, variant) from a template table.

A template is a Python format string over the episode's metadata, e.g.
`"insert the {variant} connector"`. Lookup order: "task/variant", "variant", "task", "*".
"""

from __future__ import annotations

from typing import Mapping, Optional

from rldg_data.contract import spec
from rldg_data.contract.episode import Episode, text_array
from rldg_data.errors import ContractError


def instruction_for(episode: Episode, templates: Mapping[str, str]) -> Optional[str]:
    """The instruction the table gives this episode, or None when no key matches."""
    meta = episode.metadata
    for key in (f"{meta.task}/{meta.variant}", meta.variant, meta.task, "*"):
        if key in templates:
            try:
                return templates[key].format(**meta.to_dict())
            except (KeyError, IndexError) as exc:
                raise ContractError(f"language template {templates[key]!r} names unknown field {exc}",
                                    episode_id=meta.episode_id, field=spec.LANGUAGE_INSTRUCTION,
                                    hint="templates may use episode_metadata fields only") from exc
    return None


def relabel_language(episode: Episode, templates: Mapping[str, str]) -> Episode:
    """Sets every step's `language_instruction` from the table; unchanged when no key matches."""
    text = instruction_for(episode, templates)
    if text is None:
        return episode
    return episode.replace({spec.LANGUAGE_INSTRUCTION: text_array([text] * len(episode))})
