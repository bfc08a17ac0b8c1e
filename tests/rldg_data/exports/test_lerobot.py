"""LeRobot v3.0 export and read-back: LeRobot's own ways of loading it, the round trip, bad input.

The checks read the export the way LeRobot does (its code cannot be installed beside our pins):
`datasets.Dataset.from_parquet` with the features info.json declares, mapped as LeRobot's
`get_hf_features_from_features` maps them (written out again here, not taken from our module);
frames decoded by PyAV at `from_timestamp + timestamp` after a backward seek, as LeRobot's
`decode_video_frames_pyav` does, with its 1e-4 s tolerance.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import av
import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rldg_data.contract import spec
from rldg_data.errors import UnsafeInputError, ContractError, DatasetError
from rldg_data.exports.lerobot import ExportConfig, export_lerobot
from rldg_data.imports.lerobot_files import open_lerobot
from rldg_data.imports.lerobot import LeRobotMapping, iter_lerobot_episodes
from rldg_data.io.reader import read_episodes
from rldg_data.io.writer import write_dataset
from tests.factories import make_episode

FPS = 10
# h264 at LeRobot's CRF 30, yuv420p, on 32x32 frames with a 3x3 patch of random colour (chroma is
# subsampled 2x2): about 35 dB on average, 27 dB on the worst frame.
MIN_PSNR_DB = 30.0  # mean over frames
MIN_FRAME_PSNR_DB = 25.0  # any single frame


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A contract dataset (lossless PNG frames, wrist camera, train + val, stage labels)."""
    root = tmp_path_factory.mktemp("src")
    eps = []
    for i in range(7):
        ep = make_episode(f"ep-{i}", length=9 + 3 * i, image_size=32, seed=i, wrist=True,
                          source=("rl", "human", "scripted")[i % 3], success=bool(i % 2), variant=("vga", "usb")[i % 2])
        # neighbouring frames differ in brightness, so a frame can only match its own source frame
        shade = (np.arange(len(ep)) % 5 * 12).astype(np.uint8)[:, None, None, None]
        images = {f: np.minimum(ep.steps[f].astype(np.int16) + shade, 255).astype(np.uint8)
                  for f in (spec.IMAGE, spec.WRIST_IMAGE)}
        ep = ep.replace(steps=images)
        stage = (np.arange(len(ep)) >= len(ep) // 2).astype(np.int32)
        sources = np.asarray(["human"] * (len(ep) // 2) + ["rl"] * (len(ep) - len(ep) // 2))
        ep = ep.replace(steps={spec.STAGE: stage, spec.SOURCE: sources} if i == 6 else None,
                        seed=1000 + i, recipe_hash="abc123")
        eps.append(ep)
    data_spec = dataclasses.replace(eps[0].spec(), image_encoding="png")
    path = write_dataset({"train": eps[:5], "val": eps[5:]}, root, "toy", data_spec)
    return path, {e.episode_id: e for e in read_episodes(path)}


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("lr") / "toy_lerobot"
    summary = export_lerobot(source[0], out, ExportConfig(fps=FPS))
    return out, summary


def lerobot_hf_features(features: dict) -> datasets.Features:
    """LeRobot's feature mapping (feature_utils.get_hf_features_from_features), restated."""
    out = {}
    for key, ft in features.items():
        if ft["dtype"] == "video":
            continue
        if tuple(ft["shape"]) == (1,):
            out[key] = datasets.Value(dtype=ft["dtype"])
        else:
            out[key] = datasets.Sequence(length=ft["shape"][0], feature=datasets.Value(dtype=ft["dtype"]))
    return datasets.Features(out)


def lerobot_decode(path, timestamps, tolerance_s=1e-4) -> np.ndarray:
    """Frames at `timestamps`, found as LeRobot's decode_video_frames_pyav finds them."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(round(min(timestamps) / stream.time_base) - 1, backward=True, any_frame=False, stream=stream)
        loaded, loaded_ts = [], []
        for frame in container.decode(stream):
            ts = float(frame.pts * stream.time_base)
            loaded.append(frame.to_ndarray(format="rgb24"))
            loaded_ts.append(ts)
            if ts >= max(timestamps):
                break
    dist = np.abs(np.asarray(timestamps)[:, None] - np.asarray(loaded_ts)[None, :])
    assert (dist.min(axis=1) <= tolerance_s).all(), (timestamps, loaded_ts)
    return np.stack([loaded[i] for i in dist.argmin(axis=1)])


def test_layout_is_lerobots(exported, source):
    out, summary = exported
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == FPS
    assert info["total_episodes"] == summary.episodes == 7
    assert info["total_frames"] == summary.frames == sum(len(e) for e in source[1].values())
    assert info["splits"] == {"train": "0:5", "val": "5:7"}
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    assert list(info["features"])[-5:] == ["timestamp", "frame_index", "episode_index", "index", "task_index"]
    video = info["features"]["observation.images.image"]
    assert video["dtype"] == "video" and video["shape"] == [32, 32, 3]
    assert video["info"]["video.codec"] == "h264" and video["info"]["video.fps"] == FPS
    for rel in ("meta/stats.json", "meta/tasks.parquet", "meta/episodes/chunk-000/file-000.parquet",
                "data/chunk-000/file-000.parquet", "videos/observation.images.image/chunk-000/file-000.mp4",
                "videos/observation.images.wrist_image/chunk-000/file-000.mp4"):
        assert (out / rel).is_file(), rel
    assert not list(out.parent.glob(".tmp-*"))


def test_data_reads_back_with_datasets_from_parquet_as_lerobot_loads_it(exported, source):
    out, _ = exported
    info = json.loads((out / "meta/info.json").read_text())
    files = sorted(str(p) for p in (out / "data").glob("*/*.parquet"))
    hf = datasets.Dataset.from_parquet(files, features=lerobot_hf_features(info["features"]))
    assert len(hf) == info["total_frames"]
    tasks = pq.read_table(out / "meta/tasks.parquet").to_pandas()
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    for row in episodes:
        episode = source[1][row["episode_metadata/episode_id"]]
        rows = hf.select(range(row["dataset_from_index"], row["dataset_to_index"]))
        np.testing.assert_array_equal(np.asarray(rows["action"], np.float32), episode.steps[spec.ACTION])
        np.testing.assert_array_equal(np.asarray(rows["observation.state"], np.float32), episode.steps[spec.STATE])
        np.testing.assert_array_equal(np.asarray(rows["next.reward"], np.float32), episode.steps[spec.REWARD])
        assert rows["source"] == list(episode.steps[spec.SOURCE]) and rows["stage"] == list(episode.steps[spec.STAGE])
        assert rows["frame_index"] == list(range(len(episode)))
        np.testing.assert_array_equal(np.asarray(rows["timestamp"], np.float32),
                                      (np.arange(len(episode)) / FPS).astype(np.float32))
        instruction = tasks.index[tasks["task_index"] == rows["task_index"][0]][0]
        assert instruction == episode.steps[spec.LANGUAGE_INSTRUCTION][0]
        assert row["tasks"] == [instruction] and row["length"] == len(episode)
        assert row["episode_metadata/success"] == episode.metadata.success
        assert row["episode_metadata/recipe_hash"] == "abc123"


def test_every_frame_decodes_at_from_timestamp_plus_timestamp(exported, source):
    out, _ = exported
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    scores = []
    for row in episodes:
        episode = source[1][row["episode_metadata/episode_id"]]
        for field, key in ((spec.IMAGE, "observation.images.image"), (spec.WRIST_IMAGE, "observation.images.wrist_image")):
            video = out / f"videos/{key}/chunk-{row[f'videos/{key}/chunk_index']:03d}/file-{row[f'videos/{key}/file_index']:03d}.mp4"
            start = row[f"videos/{key}/from_timestamp"]
            assert row[f"videos/{key}/to_timestamp"] == pytest.approx(start + len(episode) / FPS)
            for k in range(len(episode)):  # one query per frame, each with its own seek
                frame = lerobot_decode(video, [start + np.float32(k / FPS)])[0]
                scores.append(psnr(frame, episode.steps[field][k]))
                for other in (k - 1, k + 1):  # the right frame, not a neighbour
                    if 0 <= other < len(episode) and not np.array_equal(episode.steps[field][other],
                                                                        episode.steps[field][k]):
                        assert scores[-1] > psnr(frame, episode.steps[field][other])
    print(f"PSNR over {len(scores)} frames: mean {np.mean(scores):.1f} dB, min {np.min(scores):.1f} dB")
    assert np.mean(scores) >= MIN_PSNR_DB and np.min(scores) >= MIN_FRAME_PSNR_DB


def test_stats_follow_lerobots_convention(exported, source):
    out, _ = exported
    stats = json.loads((out / "meta/stats.json").read_text())
    actions = np.concatenate([e.steps[spec.ACTION] for e in source[1].values()])
    keys = {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"}
    assert set(stats["action"]) == keys
    np.testing.assert_allclose(stats["action"]["min"], actions.min(0), rtol=1e-6)
    np.testing.assert_allclose(stats["action"]["max"], actions.max(0), rtol=1e-6)
    np.testing.assert_allclose(stats["action"]["mean"], actions.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats["action"]["std"], actions.std(0), rtol=1e-4)
    assert stats["action"]["count"] == [len(actions)]
    image = np.asarray(stats["observation.images.image"]["mean"])
    assert image.shape == (3, 1, 1) and (0 <= image).all() and (image <= 1).all()
    assert "source" not in stats  # strings have no statistics
    row = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").slice(0, 1).to_pylist()[0]
    assert row["stats/action/count"] == [row["length"]]


def test_round_trip_keeps_every_field_and_frames_within_codec_tolerance(exported, source):
    out, _ = exported
    back = list(iter_lerobot_episodes(out))
    assert [e.episode_id for e in back] == [f"ep-{i}" for i in range(7)]  # train (0-4), then val
    assert {e.episode_id for e in back} == set(source[1])
    scores = []
    for episode in back:
        original = source[1][episode.episode_id]
        assert episode.metadata == original.metadata
        assert set(episode.steps) == set(original.steps)
        for name, values in original.steps.items():
            if name in spec.IMAGE_FIELDS:
                scores += [psnr(a, b) for a, b in zip(episode.steps[name], values)]
            else:
                assert episode.steps[name].dtype == values.dtype, name
                np.testing.assert_array_equal(episode.steps[name], values, err_msg=name)
    print(f"round trip PSNR over {len(scores)} frames: mean {np.mean(scores):.1f} dB, min {np.min(scores):.1f} dB")
    assert np.mean(scores) >= MIN_PSNR_DB and np.min(scores) >= MIN_FRAME_PSNR_DB


def test_small_file_limits_roll_data_and_videos_over_and_still_read_back(source, tmp_path):
    out = tmp_path / "rolled"
    config = ExportConfig(fps=FPS, data_files_size_in_mb=0.004, video_files_size_in_mb=0.001, chunks_size=2)
    summary = export_lerobot(source[0], out, config)
    assert summary.data_files > 2 and summary.video_files > 2
    assert (out / "data/chunk-001/file-000.parquet").is_file()
    assert (out / "videos/observation.images.image/chunk-000/file-001.mp4").is_file()
    back = {e.episode_id: e for e in iter_lerobot_episodes(out)}
    for eid, original in source[1].items():
        np.testing.assert_array_equal(back[eid].steps[spec.ACTION], original.steps[spec.ACTION])
        assert psnr(back[eid].steps[spec.IMAGE], original.steps[spec.IMAGE]) >= MIN_PSNR_DB


def test_libsvtav1_export_decodes(source, tmp_path):
    out = tmp_path / "av1"
    export_lerobot(source[0], out, ExportConfig(fps=FPS, vcodec="libsvtav1"))
    info = json.loads((out / "meta/info.json").read_text())
    assert info["features"]["observation.images.image"]["info"]["video.codec"] == "av1"
    back = list(iter_lerobot_episodes(out))
    assert min(psnr(e.steps[spec.IMAGE], source[1][e.episode_id].steps[spec.IMAGE]) for e in back) >= MIN_PSNR_DB


def test_export_refuses_to_overwrite_and_leaves_nothing_when_interrupted(source, exported, tmp_path, monkeypatch):
    with pytest.raises(UnsafeInputError, match="earlier `rldg export lerobot` output"):
        export_lerobot(source[0], exported[0])
    from rldg_data.exports import lerobot as export_module

    calls = []

    def failing_add(self, episode):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return original_add(self, episode)

    original_add = export_module._LeRobotWriter.add
    monkeypatch.setattr(export_module._LeRobotWriter, "add", failing_add)
    with pytest.raises(RuntimeError):
        export_lerobot(source[0], tmp_path / "half")
    assert list(tmp_path.iterdir()) == []


# -- bad LeRobot folders: refused before any output, naming file and field -------------------------

@pytest.fixture
def broken(exported, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(exported[0], copy)
    return copy


def _consume(root):
    return list(iter_lerobot_episodes(root))


def test_missing_video_is_refused_naming_file_and_field(broken):
    video = broken / "videos/observation.images.wrist_image/chunk-000/file-000.mp4"
    video.unlink()
    with pytest.raises(ContractError) as err:
        open_lerobot(broken)
    assert str(video) in str(err.value) and "observation.images.wrist_image" in str(err.value)


def test_timestamp_off_the_fps_grid_is_refused(broken):
    path = broken / "data/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    ts = table.column("timestamp").to_numpy().copy()
    ts[12] += 0.03
    table = table.set_column(table.schema.get_field_index("timestamp"), table.schema.field("timestamp"),
                             pa.array(ts, pa.float32()))
    pq.write_table(table, path)
    with pytest.raises(ContractError) as err:
        _consume(broken)
    message = str(err.value)
    assert str(path) in message and "'timestamp'" in message and "off the 1/fps grid" in message


def test_unknown_codebase_version_is_refused(broken):
    info_path = broken / "meta/info.json"
    info = json.loads(info_path.read_text())
    for version, words in (("v2.1", "convert_dataset_v21_to_v30"), ("v9.0", "v3.x"), ("3.0", "v3.0")):
        info["codebase_version"] = version
        info_path.write_text(json.dumps(info))
        with pytest.raises(ContractError) as err:
            open_lerobot(broken)
        assert "'codebase_version'" in str(err.value) and words in str(err.value) and "info.json" in str(err.value)


def test_parquet_schema_contradicting_info_json_is_refused(broken):
    path = broken / "data/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    index = table.schema.get_field_index("next.reward")
    table = table.set_column(index, "next.reward", table.column(index).cast(pa.float64()))
    pq.write_table(table, path)
    with pytest.raises(ContractError) as err:
        open_lerobot(broken)
    assert str(path) in str(err.value) and "'next.reward'" in str(err.value) and "double" in str(err.value)
    table = table.set_column(index, "next.reward", table.column(index).cast(pa.float32()))
    pq.write_table(table.append_column("surprise", pa.array(np.zeros(table.num_rows))), path)
    with pytest.raises(ContractError, match="'surprise'"):
        open_lerobot(broken)


def test_mapping_naming_a_missing_column_is_refused(exported, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("state: observation.joints\n")
    with pytest.raises(ContractError) as err:
        _consume_with(exported[0], mapping)
    assert str(mapping) in str(err.value) and "'state'" in str(err.value) and "observation.joints" in str(err.value)
    mapping.write_text("state: observation.state\nstat: x\n")
    with pytest.raises(ContractError, match="'stat'"):
        LeRobotMapping.load(mapping)


def _consume_with(root, mapping):
    return list(iter_lerobot_episodes(root, LeRobotMapping.load(mapping)))


def test_action_mapping_to_unit_range(exported, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("action: {key: action, from_stats: true}\nsource: human\n")
    back = _consume_with(exported[0], mapping)
    actions = np.concatenate([e.steps[spec.ACTION] for e in back])
    assert actions.min() == pytest.approx(-1.0, abs=1e-6) and actions.max() == pytest.approx(1.0, abs=1e-6)
    mapping.write_text("action: {key: action, low: 0, high: 0.5}\n")
    with pytest.raises(ContractError, match="outside"):
        _consume_with(exported[0], mapping)
    mapping.write_text("action: {key: action, low: 0, high: 0.5, clip: true, dims: [0, 3]}\n")
    assert _consume_with(exported[0], mapping)[0].steps[spec.ACTION].shape[1] == 2


def test_image_stats_from_channel_histograms_equal_the_per_pixel_computation():
    from rldg_data.exports import lerobot_stats as stats

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (130, 20, 22, 3)).astype(np.uint8)
    frames[..., 1] //= 3
    got = stats.image_stats(frames)
    sampled = frames[stats.sample_indices(len(frames))]
    assert len(sampled) == 100  # LeRobot samples about 100 frames of a 130-frame episode
    ref = stats._vector_stats(sampled.reshape(-1, 3).astype(np.float64), len(sampled))
    for key, value in ref.items():
        scale = 1 if key == "count" else 255
        np.testing.assert_allclose(np.ravel(got[key]), np.ravel(value) / scale, rtol=1e-9, atol=1e-12, err_msg=key)
    assert got["mean"].shape == (3, 1, 1)


def test_data_schema_is_the_one_datasets_writes(exported):
    from rldg_data.io import lerobot_layout as layout

    info = json.loads((exported[0] / "meta/info.json").read_text())
    ours = layout.arrow_schema(info["features"])
    theirs = lerobot_hf_features(info["features"]).arrow_schema
    assert ours.equals(theirs, check_metadata=True)
    # a file LeRobot's writer would write (datasets table -> ParquetWriter) reads back as ours does
    columns = {f.name: [[0.0] * f.type.list_size] if pa.types.is_fixed_size_list(f.type) else [None]
               for f in theirs}
    table = datasets.Dataset.from_dict(columns, features=lerobot_hf_features(info["features"])).with_format("arrow")[:]
    reference = exported[0].parent / "reference.parquet"
    pq.write_table(table, reference)
    assert pq.read_schema(exported[0] / "data/chunk-000/file-000.parquet").equals(pq.read_schema(reference),
                                                                                  check_metadata=True)


def test_same_dataset_same_bytes(source, exported, tmp_path):
    """A rerun writes the same files byte for byte (encoder threads overlap reading, not order)."""
    import hashlib

    again = tmp_path / "again"
    export_lerobot(source[0], again, ExportConfig(fps=FPS))

    def digests(root):
        return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    assert digests(again) == digests(exported[0])


def test_export_writes_a_readme_saying_its_fps_and_where_it_came_from(tmp_path, capsys):
    """Issue 33: `rldg export lerobot` wrote no README and silently used 80 fps for any dataset."""
    from rldg_data.cli import main

    src = write_dataset([make_episode(f"ep-{i}", length=5, image_size=16, seed=i) for i in range(2)],
                        tmp_path / "data", "no_rate")
    assert main(["export", "lerobot", str(src), "--out", str(tmp_path / "a")]) == 0
    readme = (tmp_path / "a" / "README.md").read_text()
    assert "**80 fps**" in readme and "the dataset records no rate; pass --fps" in readme
    assert 'LeRobotDataset("local/no_rate", root=' in readme
    assert open_lerobot(tmp_path / "a").fps == 80  # the README does not disturb the layout
    assert main(["export", "lerobot", str(src), "--out", str(tmp_path / "b"), "--fps", "10"]) == 0
    assert "**10 fps**, from --fps" in (tmp_path / "b" / "README.md").read_text()
    (src / "metadata.json").write_text(json.dumps({"fps": 15}))
    assert main(["export", "lerobot", str(src), "--out", str(tmp_path / "c")]) == 0
    assert "**15 fps**, from the dataset's metadata.json" in (tmp_path / "c" / "README.md").read_text()
