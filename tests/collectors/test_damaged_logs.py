"""A damaged collector log is a ContractError naming its folder and episode, never envlogger's bare
TypeError, a silently wrong outcome, or a traceback printed from envlogger's destructor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from collectors.collect import CollectConfig, collect
from collectors.logs import episode_logs, log_spec, read_episode
from collectors.to_rlds import iter_examples
from rldg_data.errors import ContractError

TOY = dict(env_factory="tests.collectors.toy_env:make_env",
           demonstrator_factory="tests.collectors.toy_env:make_policy")


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    out = tmp_path_factory.mktemp("logs")
    collect(CollectConfig(task="toy", variant="a", policy="human", episodes=3, out=str(out), seed=0,
                          image_size=16, **TOY), in_process=True)
    return out


def _truncate(name: str, keep: float = 0.5):
    def damage(log: Path) -> None:
        f = next(log.rglob(name))
        f.write_bytes(f.read_bytes()[: int(f.stat().st_size * keep)])
    return damage


def _edit_outcome(**changes):
    def damage(log: Path) -> None:
        f = log / "outcome.json"
        f.write_text(json.dumps({**json.loads(f.read_text()), **changes}))
    return damage


DAMAGES = {
    "truncated steps file": (_truncate("steps.riegeli"), "cannot be read"),
    "empty steps file": (_truncate("steps.riegeli", 0), "cannot be read"),
    "truncated step offsets": (_truncate("step_offsets.riegeli"), "does not end with a last timestep"),
    "truncated episode index": (_truncate("episode_index.riegeli"), "episodes, expected 1"),
    "episode metadata truncated": (_truncate("episode_metadata.riegeli"), "episode metadata"),
    "episode metadata missing": (lambda log: next(log.rglob("episode_metadata.riegeli")).unlink(),
                                 "not a readable envlogger log"),
    "log metadata unparsable": (lambda log: (log / "metadata.riegeli").write_bytes(b"not riegeli" * 9),
                                "not a readable envlogger log"),
    "log metadata missing": (lambda log: (log / "metadata.riegeli").unlink(), "not a readable"),
    "outcome file disagrees on steps": (_edit_outcome(length=999), "outcome.json says 999"),
    "outcome file disagrees on success": (None, "outcome.json says"),
    "outcome file unparsable": (lambda log: (log / "outcome.json").write_text("{"), "unparsable"),
}


@pytest.mark.parametrize("case", sorted(DAMAGES))
def test_damaged_log_raises_contract_error_naming_folder_and_episode(logs, tmp_path, case, capfd):
    source = episode_logs([logs])[1]
    log = tmp_path / source.name
    shutil.copytree(source, log)
    damage, words = DAMAGES[case]
    if damage is None:  # flip success in the outcome file
        damage = _edit_outcome(success=not json.loads((log / "outcome.json").read_text())["success"])
    damage(log)
    with pytest.raises(ContractError) as info:
        read_episode(log)
    message = str(info.value)
    assert str(log) in message and "toy/a/toy-human/seed1" in message and words in message, message
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_skipping_damaged_logs_yields_the_rest_and_reports_them(logs, tmp_path):
    copy = tmp_path / "logs"
    shutil.copytree(logs, copy)
    victim = episode_logs([copy])[0]  # the first log: the spec must come from the next one
    _truncate("steps.riegeli")(victim)
    with pytest.raises(ContractError, match="ep-000000"):
        list(iter_examples([copy], log_spec([copy])))
    skipped: list = []
    ids = [eid for eid, _ in iter_examples([copy], log_spec([copy], skip_damaged=True), skipped=skipped)]
    assert ids == ["toy/a/toy-human/seed1", "toy/a/toy-human/seed2"]
    assert [e.file for e in skipped] == [str(victim)]
