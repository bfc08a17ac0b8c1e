"""One exception hierarchy for the whole toolkit: every error class of every package is here.

Every error a user can hit on bad data carries *where* it happened (file, episode id, step index,
field) so the message can say it, and a hint saying what to do. Callers catch `RldgError`; the
`rldg` command prints an `RldgError` as one line on stderr and exits with status 2 (a user error),
while any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Optional


class RldgError(Exception):
    """Base class of every error raised on purpose by rldg-data."""


class ContractError(RldgError):
    """Data that breaks the RLDS contract (rldg_data/contract/spec.py) (shape, dtype, value, missing field, ...).

    The message always names what is known of the location: file, episode id, step index, field.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Optional[str] = None,
        episode_id: Optional[str] = None,
        step: Optional[int] = None,
        field: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        self.reason = message
        self.file = file
        self.episode_id = episode_id
        self.step = step
        self.field = field
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.episode_id is not None:
            where.append(f"episode {self.episode_id!r}")
        if self.step is not None:
            where.append(f"step {self.step}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = (", ".join(where) + ": " if where else "") + self.reason
        if self.hint:
            text += f" ({self.hint})"
        return text

    def located(self, **where) -> "ContractError":
        """Returns a copy with more location filled in (e.g. the file, once the reader knows it)."""
        fields = dict(file=self.file, episode_id=self.episode_id, step=self.step, field=self.field)
        fields.update({k: v for k, v in where.items() if v is not None})
        return ContractError(self.reason, hint=self.hint, **fields)


class EpisodeValidationError(ContractError):
    """`contract.check.validate_episode` found violations; `.violations` lists all of them, the message the first."""

    def __init__(self, violations: list[ContractError]) -> None:
        first = violations[0]
        self.violations = list(violations)
        more = f" (+{len(violations) - 1} more violations)" if len(violations) > 1 else ""
        super().__init__(
            first.reason + more,
            file=first.file,
            episode_id=first.episode_id,
            step=first.step,
            field=first.field,
            hint=first.hint,
        )


class DatasetError(RldgError):
    """A dataset folder that cannot be read at all (missing metadata, not a TFDS folder, ...)."""


class UnsafeInputError(RldgError):
    """Input refused for safety: pickle without opt-in, an archive member escaping its folder, ..."""


class OutputRefusedError(DatasetError, UnsafeInputError):
    """An output path a command refuses to write: it holds something the command did not write, a
    file stands where a folder goes, it overlaps the command's input, or another process took it."""


class OutOfSpaceError(RldgError):
    """A write failed for want of space (ENOSPC, EFBIG, EDQUOT); the message names the path and what
    was being written, and that nothing half-written was left."""

    reason: str = "No space left on device"


class UnavailableError(RldgError):
    """A feature that cannot work in this environment (no Octo install, no display, ...)."""


class ConfigError(RldgError):
    """A configuration value out of range, or an unknown key in a stored config (the message names it).

    Raised where a config dataclass is built (specialist, report, importer, ...), so a bad option
    fails before any work starts.
    """


class RecipeError(ConfigError):
    """A broken mixing recipe: unknown key, missing source, bad value. The message names it."""


class LoaderConfigError(ConfigError):
    """A training loader setting out of range (the message names it)."""


class DemoError(RldgError):
    """A demo stage's command failed; the message names the command and shows its output's tail."""


class RobotError(RldgError):
    """A robot server (HIL-SERL's API, real or simulated) that cannot be used as asked."""


class RobotConnectionError(RobotError):
    """The robot server could not be reached, or stopped answering (timeout, refused, reset)."""


class RobotProtocolError(RobotError):
    """The robot server answered something unusable (HTTP error, malformed JSON, NaN, wrong shape),
    or a command was refused before sending (NaN pose)."""


class CameraTimeoutError(RobotError):
    """A camera gave no new frame in time (frozen, unplugged, or held by another process)."""
