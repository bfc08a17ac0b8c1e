"""`rldg view`'s index and JSON API: table rows, filters and paging, episode arrays and stored
frames, path safety, loopback binding, damaged shards and the viewer registry."""

from __future__ import annotations

import io
import os
import json
import logging
import urllib.error
import urllib.request

import numpy as np
import pytest

from rldg_data.contract import spec
from rldg_data.errors import ConfigError, RldgError
from rldg_data.io.reader import iter_episodes, open_dataset
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode, make_episodes
from tests.viz.conftest import intervention_episode
from viz.view import registry
from viz.view.index import Query, build_index, query, read_entries
from viz.view.server import ViewApp, ViewConfig, Viewer


@pytest.fixture(scope="module")
def app(viz_dataset):
    return ViewApp(build_index([viz_dataset]))


def get(app, path):
    status, kind, body = app.handle(path)
    return status, (json.loads(body) if kind.startswith("application/json") else body), kind


def test_table_rows_carry_what_the_table_shows(app, viz_episodes):
    status, page, _ = get(app, "/api/episodes?limit=100")
    assert status == 200 and page["total"] == len(viz_episodes) == len(page["rows"])
    by_id = {r["episode_id"]: r for r in page["rows"]}
    mixed = by_id["ep-int"]
    assert mixed["steps_per_source"] == {"rl": 4, "intervention": 4}
    assert mixed["handoff"] == 4 and mixed["stages"] == [0, 1]
    assert mixed["source"] == "intervention" and mixed["length"] == 8
    for episode in viz_episodes:
        row = by_id[episode.episode_id]
        assert row["length"] == len(episode)
        assert row["variant"] == episode.metadata.variant and row["split"] == episode.metadata.split
        assert row["success"] is episode.metadata.success
        assert row["policy_id"] == episode.metadata.policy_id and row["error"] is None


def test_filters_sort_and_pages(app, viz_episodes):
    _, page, _ = get(app, "/api/episodes?source=human")
    assert page["total"] == sum(1 for e in viz_episodes if set(e.steps[spec.SOURCE]) == {"human"}) > 0
    assert {r["source"] for r in page["rows"]} == {"human"}
    _, page, _ = get(app, "/api/episodes?step_source=rl&success=true")
    assert all(r["success"] and "rl" in r["steps_per_source"] for r in page["rows"])
    _, page, _ = get(app, "/api/episodes?sort=length&desc=1")
    lengths = [r["length"] for r in page["rows"]]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] == 8
    _, first, _ = get(app, "/api/episodes?limit=3&offset=0")
    _, second, _ = get(app, "/api/episodes?limit=3&offset=3")
    assert [r["row"] for r in first["rows"]] == [0, 1, 2]
    assert [r["row"] for r in second["rows"]] == [3, 4, 5]
    _, page, _ = get(app, "/api/episodes?stage=1&min_length=8&max_length=8")
    assert [r["episode_id"] for r in page["rows"]] == ["ep-int"]
    _, page, _ = get(app, "/api/episodes?q=INT")
    assert [r["episode_id"] for r in page["rows"]] == ["ep-int"]
    for bad in ("sort=nope", "limit=0", "success=maybe", "offset=x", "policy=rl"):
        status, body, _ = get(app, f"/api/episodes?{bad}")
        assert status == 400 and "error" in body, bad
    with pytest.raises(ConfigError):
        Query(filters=(("episode_return", "1"),))


def test_info_lists_facets_and_datasets(app):
    _, info, _ = get(app, "/api/info")
    assert info["episodes"] == 10 and info["problems"] == []
    assert info["datasets"][0]["cameras"] == ["image"]
    assert set(info["facets"]["source"]) == {"rl", "human", "scripted", "intervention"}
    assert info["facets"]["stage"] == [0, 1]


def test_episode_arrays_and_frames_are_the_stored_ones(app, viz_dataset):
    stored = {e.episode_id: e for e in iter_episodes(viz_dataset, decode_images=False)}
    _, row, _ = get(app, "/api/find?dataset=vizmix&episode_id=ep-int")
    status, ep, _ = get(app, f"/api/episode/{row['row']}")
    assert status == 200 and ep["error"] is None and ep["violations"] == []
    original = stored["ep-int"]
    assert ep["num_steps"] == len(original) == 8
    np.testing.assert_array_equal(np.asarray(ep["series"]["action"], np.float32), original.steps[spec.ACTION])
    np.testing.assert_array_equal(np.asarray(ep["series"]["observation/state"], np.float32),
                                  original.steps[spec.STATE])
    assert ep["series"]["stage"] == [0] * 4 + [1] * 4
    assert ep["source"] == ["rl"] * 4 + ["intervention"] * 4
    assert ep["metadata"]["episode_id"] == "ep-int" and ep["cameras"] == ["image"]
    for t in (0, 5, 7):
        status, blob, kind = get(app, f"/api/frame/{row['row']}/image/{t}")
        assert status == 200 and kind == "image/jpeg"
        assert blob == bytes(original.steps[spec.IMAGE][t])  # served as stored, not re-encoded
    assert get(app, f"/api/frame/{row['row']}/image/8")[0] == 404
    assert get(app, f"/api/frame/{row['row']}/wrist_image/0")[0] == 404
    assert get(app, "/api/episode/10")[0] == 400
    assert get(app, "/api/episode/-1")[0] == 400
    assert get(app, "/api/find?dataset=vizmix&episode_id=nope")[0] == 404


@pytest.mark.parametrize("path", ["/static/../../setup.py", "/static/%2e%2e/index.py", "/static/..%2f..%2fsetup.py",
                                  "/../setup.py", "/static/%2e%2e%2f%2e%2e%2frldg_data/errors.py",
                                  "/static/..\\server.py", "/static/%00app.js"])
def test_paths_outside_the_viewer_are_refused(app, path):
    status, body, _ = get(app, path)
    assert status == 403, (path, status)
    assert "refused" in body["error"]


def test_static_page_and_unknown_routes(app):
    status, body, kind = get(app, "/")
    assert status == 200 and b"app.js" in body and kind.startswith("text/html")
    status, body, kind = get(app, "/static/app.js")
    assert status == 200 and b"EpisodePanel" in body
    assert get(app, "/static/nope.js")[0] == 404
    assert get(app, "/etc/passwd")[0] == 404
    assert get(app, "/api/nope")[0] == 404


def test_index_reads_a_small_part_of_each_record(tmp_path):
    """The index skips the frames: a few hundred bytes of each 100-step record with 64x64 frames."""
    episodes = [make_episode(f"e{i}", length=100, image_size=64, seed=i) for i in range(3)]
    path = write_dataset(episodes, tmp_path, "big")
    files = open_dataset(path)
    shard = files.shards["train"][0]
    from rldg_data.io.records import scan_shard

    refs, problem = scan_shard(shard)
    assert problem is None and len(refs) == 3

    class Counting(io.FileIO):
        read_bytes = 0

        def read(self, n=-1):
            data = super().read(n)
            Counting.read_bytes += len(data)
            return data

    with Counting(str(shard), "rb") as f:
        entries = read_entries(f, *refs[1])
    assert f"{spec.EPISODE_METADATA}/{spec.EPISODE_ID}" in entries
    assert list(entries[f"{spec.STEPS}/{spec.SOURCE}"].bytes_list.value) == [b"rl"] * 100
    assert not any(k.startswith(f"{spec.STEPS}/observation") for k in entries)
    assert Counting.read_bytes < refs[1][1] / 10, (Counting.read_bytes, refs[1][1])


def test_a_damaged_record_shows_its_error_and_the_rest_stays_browsable(tmp_path):
    episodes = make_episodes(12, seed=5, image_size=32)
    path = write_dataset(episodes, tmp_path, "broken", max_shard_bytes=20_000)
    files = open_dataset(path)
    shards = files.shards["train"]
    assert len(shards) >= 3
    # flip bytes inside the frames of the first record of shard 0 (the index does not read them)
    data = bytearray(shards[0].read_bytes())
    data[len(data) // 4] ^= 0xFF
    shards[0].write_bytes(bytes(data))
    # cut the last shard in the middle of its second record
    last = shards[-1].read_bytes()
    from rldg_data.io.records import scan_shard

    refs, _ = scan_shard(shards[-1])
    shards[-1].write_bytes(last[:refs[1][0] + 10])
    app = ViewApp(build_index([path]))
    _, page, _ = get(app, "/api/episodes?limit=100")
    rows = page["rows"]
    errors = [r for r in rows if r["error"]]
    assert len(errors) == 1 and "runs past the end" in errors[0]["error"] and str(shards[-1]) in errors[0]["error"]
    _, info, _ = get(app, "/api/info")
    assert any(str(shards[-1]) in p for p in info["problems"])
    loaded = [get(app, f"/api/episode/{r['row']}")[1] for r in rows]
    broken = [e for e in loaded if e["error"]]
    assert len(broken) == 2  # the flipped record (CRC) and the truncated shard's hidden records
    assert any("CRC" in e["error"] and str(shards[0]) in e["error"] for e in broken)
    good = [e for e in loaded if not e["error"]]
    assert len(good) == len(rows) - 2 >= 8
    assert all(e["num_steps"] == e["info"]["length"] for e in good)
    crc_row = next(e["row"] for e in broken if "CRC" in e["error"])
    assert get(app, f"/api/frame/{crc_row}/image/0")[0] == 404
    _, errors_only, _ = get(app, "/api/episodes?errors=1")
    assert errors_only["total"] == 1


def test_several_datasets_side_by_side(tmp_path, viz_dataset):
    other = write_dataset(make_episodes(4, seed=8, image_size=16, wrist=True), tmp_path, "sources")
    app = ViewApp(build_index([viz_dataset, other]))
    _, info, _ = get(app, "/api/info")
    assert [d["label"] for d in info["datasets"]] == ["vizmix", "sources"]
    assert info["datasets"][1]["cameras"] == ["image", "wrist_image"]
    _, page, _ = get(app, "/api/episodes?dataset=sources")
    assert page["total"] == 4
    row = page["rows"][0]["row"]
    assert get(app, f"/api/frame/{row}/wrist_image/0")[2] == "image/jpeg"
    same = ViewApp(build_index([viz_dataset, viz_dataset]))
    assert [d["label"] for d in same.info()["datasets"]] == ["vizmix", "vizmix/1.0.0"]


def test_non_loopback_binds_are_refused_unless_allowed(caplog, viz_dataset):
    for host in ("0.0.0.0", "192.168.1.20", "example.org"):
        with pytest.raises(RldgError, match="--allow-remote"):
            ViewConfig(host=host)
    ViewConfig(host="::1")
    ViewConfig(host="localhost")
    with caplog.at_level(logging.WARNING, logger="viz.view"):
        viewer = Viewer([viz_dataset], ViewConfig(host="0.0.0.0", port=0, allow_remote=True))
        viewer.httpd.server_close()
    assert any("anyone who can reach this machine" in r.getMessage() for r in caplog.records)


def test_served_over_http_with_loopback_host_check(viz_dataset):
    with Viewer([viz_dataset], ViewConfig(port=0)) as viewer:
        assert viewer.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(viewer.url + "api/episodes?limit=2") as response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert len(json.loads(response.read())["rows"]) == 2
        request = urllib.request.Request(viewer.url + "api/info", headers={"Host": "evil.example:80"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request)
        assert err.value.code == 403


def test_registry_finds_a_live_viewer(tmp_path, monkeypatch, viz_dataset):
    monkeypatch.setenv("RLDG_VIEW_REGISTRY", str(tmp_path / "reg"))
    assert registry.find_viewer(viz_dataset) is None
    note = registry.announce("http://127.0.0.1:9999/", [viz_dataset])
    assert registry.find_viewer(viz_dataset) == "http://127.0.0.1:9999/"
    assert registry.find_viewer(tmp_path) is None
    dead = tmp_path / "reg" / "999999999.json"
    dead.write_text(json.dumps({"url": "http://x/", "pid": 999999999, "datasets": [str(tmp_path)]}))
    assert registry.find_viewer(tmp_path) is None  # its process is gone
    registry.withdraw(note)
    assert registry.find_viewer(viz_dataset) is None


def test_view_command_is_registered():
    from rldg_data.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["view", "a", "b", "--port", "0"])
    assert args.paths == ["a", "b"] and args.port == 0 and not args.allow_remote
    assert "view" in parser.format_help()


def test_shard_paths_outside_the_dataset_are_refused(tmp_path):
    """A dataset_info.json whose split name climbs out of the folder: nothing outside is read."""
    path = write_dataset(make_episodes(3, seed=1, image_size=16), tmp_path / "data", "evil")
    info_file = path / "dataset_info.json"
    info = json.loads(info_file.read_text())
    outside = tmp_path / "secret"
    outside.mkdir()
    split = info["splits"][0]
    split["name"] = "x/../../../../secret/y"
    info_file.write_text(json.dumps(info))
    app = ViewApp(build_index([path]))
    _, page, _ = get(app, "/api/episodes")
    assert page["total"] == 1 and "leaves the dataset folder: refused" in page["rows"][0]["error"]
    _, episode, _ = get(app, "/api/episode/0")
    assert "refused" in episode["error"] and "metadata" not in episode


def test_index_cache_is_reused_only_while_the_shard_is_unchanged(tmp_path, monkeypatch):
    import viz.view.index as index_module

    path = write_dataset(make_episodes(6, seed=2, image_size=16), tmp_path / "data", "cached", max_shard_bytes=4_000)
    cache = tmp_path / "cache"
    fresh = build_index([path], cache=cache)
    assert len(list(cache.glob("*.json"))) == len(open_dataset(path).shards["train"]) >= 2
    calls = []
    real = index_module.read_entries
    monkeypatch.setattr(index_module, "read_entries", lambda *a: calls.append(a) or real(*a))
    again = build_index([path], cache=cache)
    assert calls == []  # every row came from the cache
    assert again.rows == fresh.rows and again.locations == fresh.locations
    # rewrite one shard (same episodes, new mtime): only that shard is read again
    shard = open_dataset(path).shards["train"][0]
    data = shard.read_bytes()
    shard.write_bytes(data)
    os.utime(shard, ns=(1, 1))
    third = build_index([path], cache=cache)
    assert 0 < len(calls) < len(fresh.rows) and third.rows == fresh.rows
    # a cache file cut short, or garbled, is ignored, not trusted
    for f in cache.glob("*.json"):
        f.write_text("".join(f.read_text().splitlines(keepends=True)[:-1]))
    calls.clear()
    assert build_index([path], cache=cache).rows == fresh.rows and len(calls) == len(fresh.rows)
    for f in cache.glob("*.json"):
        f.write_text("{not json")
    assert build_index([path], cache=cache).rows == fresh.rows


def test_a_port_in_use_is_a_one_line_error(viz_dataset):
    with Viewer([viz_dataset], ViewConfig(port=0)) as first:
        port = first.httpd.server_address[1]
        with pytest.raises(RldgError, match=f"cannot serve on 127.0.0.1:{port}.*--port"):
            Viewer([viz_dataset], ViewConfig(port=port))
