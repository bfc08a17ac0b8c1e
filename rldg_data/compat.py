"""Work-arounds for third-party packages on the pinned stack, applied in one place.

- envlogger 1.2's codec refers to `np.unicode_`, removed in numpy 2: alias it to `np.str_`.
- rlds 0.1.8's package init imports dm-reverb, whose last release cannot load on TF 2.21: put a
  placeholder `reverb` module (only used in type annotations there) in `sys.modules` first.
Call the matching function right before importing envlogger or rlds.
"""

from __future__ import annotations

import sys
import types

import numpy as np


def patch_numpy_for_envlogger() -> None:
    """Restores `np.unicode_` (an alias of `np.str_`) for envlogger 1.2's codec."""
    if not hasattr(np, "unicode_"):
        np.unicode_ = np.str_  # type: ignore[attr-defined]


def _annotation_placeholder(name: str):
    """`object` for the reverb names rlds uses in annotations; dunder names (`__file__`,
    `__path__`, ...) stay missing, so tools that inspect every loaded module (hypothesis, torch)
    do not mistake the placeholder for a real package."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return object


def import_rlds():
    """Imports rlds 0.1.8 on a current TensorFlow (see module docstring); returns the module."""
    if "reverb" not in sys.modules:
        try:
            import reverb  # noqa: F401  # a working install wins
        except Exception:  # broken or absent dm-reverb: use a placeholder
            placeholder = types.ModuleType("reverb")
            writer = types.ModuleType("reverb.structured_writer")
            writer.__getattr__ = _annotation_placeholder  # type: ignore[attr-defined]
            placeholder.structured_writer = writer  # type: ignore[attr-defined]
            placeholder.__getattr__ = _annotation_placeholder  # type: ignore[attr-defined]
            sys.modules["reverb"] = placeholder
            sys.modules["reverb.structured_writer"] = writer
    import rlds

    return rlds
