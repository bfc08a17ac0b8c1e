"""The side environment's rules: found archives, skip with a reason, fail instead in CI."""

from __future__ import annotations

import pytest

from tests.interop import side_env
from tests.interop.conftest import require_side_env


@pytest.mark.parametrize("env, expected", [({}, False), ({"CI": "true"}, True), ({"CI": "0"}, False),
                                           ({"RLDG_INTEROP_REQUIRED": "1"}, True)])
def test_required_in_ci_or_when_asked(env, expected, monkeypatch):
    for name in ("CI", "RLDG_INTEROP_REQUIRED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert side_env.required() is expected


def test_missing_archives_skip_saying_why_and_fail_in_ci(tmp_path, monkeypatch):
    monkeypatch.setenv(side_env.SRC_ENV, str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("RLDG_INTEROP_REQUIRED", raising=False)
    assert side_env.archives_dir() is None
    with pytest.raises(pytest.skip.Exception, match="octo-241fb35.tar.gz.*RLDG_INTEROP_SRC"):
        require_side_env()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI.*octo-241fb35.tar.gz"):
        require_side_env()


def test_archives_are_found_beside_the_repository_or_its_main_checkout(monkeypatch):
    monkeypatch.delenv(side_env.SRC_ENV, raising=False)
    found = side_env.archives_dir()
    if found is None and not side_env.required():
        pytest.skip("no ../shared/interop beside this checkout")
    assert all((found / name).is_file() for name in side_env.ARCHIVES.values())
