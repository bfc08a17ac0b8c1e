"""The arm's render meshes are light, the camera sees the same scene, and nothing physical changed."""

from __future__ import annotations

import numpy as np
import pytest

import robot_io
from rldg_data.errors import RldgError
from robot_io.sim import env as env_module
from robot_io.sim import meshes


def _sphere(n: int = 40):
    """A closed UV sphere with about 2 n^2 faces."""
    theta, phi = np.meshgrid(np.linspace(0, np.pi, n), np.linspace(0, 2 * np.pi, n, endpoint=False), indexing="ij")
    vertices = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1).reshape(-1, 3)
    faces = []
    for i in range(n - 1):
        for j in range(n):
            a, b, c, d = i * n + j, i * n + (j + 1) % n, (i + 1) * n + j, (i + 1) * n + (j + 1) % n
            faces += [(a, c, b), (b, c, d)]
    return vertices, np.array(faces)


def test_decimate_fits_the_budget_keeps_the_shape_and_repeats():
    vertices, faces = _sphere()
    light_v, light_f = meshes.decimate(vertices, faces, 300)
    assert 50 < len(light_f) <= 300 < len(faces)
    assert light_f.min() >= 0 and light_f.max() < len(light_v)
    assert np.all(np.abs(np.linalg.norm(light_v, axis=1) - 1.0) < 0.15)  # still a unit sphere
    again_v, again_f = meshes.decimate(vertices, faces, 300)
    assert np.array_equal(light_f, again_f) and np.array_equal(light_v, again_v)
    same_v, same_f = meshes.decimate(light_v, light_f, 10_000)  # under budget: untouched
    assert same_f is light_f and same_v is light_v


def test_a_truncated_stl_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "arm.stl"
    path.write_bytes(b"\0" * 80 + np.uint32(10).tobytes() + b"\0" * 100)
    with pytest.raises(RldgError, match="arm.stl: not a binary STL"):
        meshes.read_binary_stl(path)


def _env(monkeypatch, light: bool):
    if not light:
        monkeypatch.setattr(env_module.meshes, "lighten_render_meshes", lambda spec, *a, **k: 0)
    env = robot_io.make("assembly", "round_nut", image_size=64)
    monkeypatch.undo()
    return env


def test_light_meshes_change_the_pictures_little_and_the_physics_not_at_all(monkeypatch):
    full, light = _env(monkeypatch, False), _env(monkeypatch, True)
    try:
        drawn = lambda m: [int(m.mesh_facenum[m.geom_dataid[g]]) for g in range(m.ngeom)
                           if m.geom_type[g] == 7 and m.geom_group[g] < meshes.HIDDEN_GROUP]
        assert max(drawn(light.model)) <= max(meshes.DEFAULT_FACE_BUDGET, 1200)  # objects' own meshes stay
        assert sum(drawn(light.model)) < sum(drawn(full.model)) / 5
        # colliding geoms keep their full mesh (hidden), so contacts are computed as before
        hidden = [g for g in range(light.model.ngeom) if light.model.geom_group[g] == meshes.HIDDEN_GROUP]
        assert hidden and all(light.model.geom_contype[g] or light.model.geom_conaffinity[g] for g in hidden)
        np.testing.assert_array_equal(full.model.body_mass, light.model.body_mass)
        np.testing.assert_array_equal(full.model.body_inertia, light.model.body_inertia)
        expert_full = robot_io.make_demonstrator("expert", full)
        expert_light = robot_io.make_demonstrator("expert", light)
        obs_full, obs_light = full.reset(seed=7), light.reset(seed=7)
        for _ in range(60):
            obs_full = full.step(expert_full.act(obs_full))[0]
            obs_light = light.step(expert_light.act(obs_light))[0]
        np.testing.assert_allclose(obs_full["privileged_state"], obs_light["privileged_state"], atol=1e-9)
        diff = np.abs(obs_full["image"].astype(int) - obs_light["image"].astype(int))
        assert diff.mean() < 3.0 and (diff.max(-1) > 30).mean() < 0.05
    finally:
        full.close(), light.close()
