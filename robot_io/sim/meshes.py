"""Lighter render meshes for the robot arm: the same silhouette in a few hundred faces a link.

Why: Meta-World's Sawyer arm has 68,000 mesh faces, and CPU offscreen rendering (llvmpipe) spends
~80% of a 64x64 frame on them (BENCHMARKS.md "demo time budget": rendering is ~96% of a simulated
step, and every collected and evaluated step renders). At 64-128 pixels an arm link covers a few
hundred pixels, so a few hundred faces draw the same picture.

What changes: only what the camera sees. A purely visual mesh geom (no contacts) gets a decimated
copy of its mesh; a mesh geom that also collides (the wrist link and the gripper base) keeps its
full mesh for contacts in a hidden geom group and gets a decimated, contact-free twin for the
camera. Bodies carry explicit inertials in Meta-World's XML, so masses and dynamics are unchanged
(tests/robot_io/sim/test_meshes.py checks both).

Decimation is vertex clustering (Rossignac-Borrel): vertices are snapped to a grid, each cell's
vertices merge into their mean, and faces that collapse are dropped. It is deterministic, needs
only numpy, and the grid is refined until the mesh fits its face budget.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Optional

import mujoco
import numpy as np

from rldg_data.errors import RldgError

RENDER_GROUP = 1  # Meta-World's visual geom group (MuJoCo draws groups 0-2 by default)
HIDDEN_GROUP = 3  # not drawn by default: the full collision meshes go here
DEFAULT_FACE_BUDGET = 300  # faces per arm mesh (BENCHMARKS.md "demo time budget" measures the choice)


def read_binary_stl(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(vertices [V, 3] float64, faces [F, 3] int) of a binary STL, identical corners merged."""
    raw = Path(path).read_bytes()
    if len(raw) < 84:
        raise RldgError(f"{path}: not a binary STL (only {len(raw)} bytes)")
    count = int(np.frombuffer(raw, dtype="<u4", count=1, offset=80)[0])
    if len(raw) != 84 + 50 * count:
        raise RldgError(f"{path}: not a binary STL ({len(raw)} bytes for {count} triangles)")
    record = np.dtype([("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    corners = np.frombuffer(raw, dtype=record, count=count, offset=84)["corners"].reshape(-1, 3)
    vertices, index = np.unique(corners.astype(np.float64), axis=0, return_inverse=True)
    return vertices, index.reshape(-1, 3)


def _cluster(vertices: np.ndarray, faces: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    keys = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    cells, label = np.unique(keys, axis=0, return_inverse=True)
    label = label.reshape(-1)
    sums = np.zeros((len(cells), 3))
    np.add.at(sums, label, vertices)
    merged = sums / np.bincount(label, minlength=len(cells))[:, None]
    tri = label[faces]
    keep = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])
    tri = tri[keep]
    _, first = np.unique(np.sort(tri, axis=1), axis=0, return_index=True)  # drop duplicated faces
    tri = tri[np.sort(first)]
    used, tri = np.unique(tri, return_inverse=True)
    return merged[used], tri.reshape(-1, 3)


def decimate(vertices: np.ndarray, faces: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """The mesh with at most `max_faces` faces (unchanged if it already has no more), by vertex
    clustering on the finest grid (of a halving sequence from the mesh's extent) that fits."""
    if len(faces) <= max_faces:
        return vertices, faces
    extent = float(np.max(vertices.max(axis=0) - vertices.min(axis=0)))
    coarse, fine = extent / 2.0, extent / 4096.0  # coarse fits any budget >= a few faces
    best = _cluster(vertices, faces, coarse)
    for _ in range(20):  # bisection on the cell size (log scale)
        cell = float(np.sqrt(coarse * fine))
        trial = _cluster(vertices, faces, cell)
        if len(trial[1]) <= max_faces:
            best, coarse = trial, cell
        else:
            fine = cell
        if coarse / fine < 1.05:
            break
    return best


@functools.lru_cache(maxsize=64)
def _light_mesh(path: str, max_faces: int) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(vertices, faces) of the decimated mesh file, or (vertices, None) when it fits the budget;
    cached per process: decimating the arm's 11 meshes takes ~1 s, and a process makes many envs."""
    vertices, faces = read_binary_stl(path)
    if len(faces) <= max_faces:
        return vertices, None
    return decimate(vertices, faces, max_faces)


def _mesh_path(spec: mujoco.MjSpec, mesh: mujoco.MjsMesh) -> Path:
    return Path(spec.modelfiledir) / spec.meshdir / mesh.file


def lighten_render_meshes(spec: mujoco.MjSpec, max_faces: int = DEFAULT_FACE_BUDGET) -> int:
    """Gives every drawn mesh geom with more than `max_faces` faces a decimated mesh for the
    camera (see the module docstring); returns how many geoms were changed. Call before compiling."""
    meshes = {m.name: m for m in spec.meshes}
    light: dict[str, str] = {}
    changed = 0
    for geom in list(spec.geoms):
        if geom.type != mujoco.mjtGeom.mjGEOM_MESH or geom.group != RENDER_GROUP or geom.meshname not in meshes:
            continue
        mesh = meshes[geom.meshname]
        if not mesh.file or not str(mesh.file).lower().endswith(".stl"):
            continue
        if geom.meshname not in light:
            vertices, faces = _light_mesh(str(_mesh_path(spec, mesh)), max_faces)
            if faces is None:
                light[geom.meshname] = geom.meshname
            else:
                name = f"{mesh.name}__render"
                spec.add_mesh(name=name, uservert=vertices.astype(np.float32).reshape(-1).tolist(),
                              userface=faces.astype(np.int32).reshape(-1).tolist(), scale=list(mesh.scale),
                              inertia=mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL)  # may not be closed
                light[geom.meshname] = name
        if light[geom.meshname] == geom.meshname:
            continue
        if geom.contype == 0 and geom.conaffinity == 0:
            geom.meshname = light[geom.meshname]
        else:  # keep the full mesh for contacts, out of sight; a contact-free twin for the camera
            twin = geom.parent.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=light[geom.meshname],
                                        pos=list(geom.pos), quat=list(geom.quat), rgba=list(geom.rgba),
                                        material=geom.material, group=RENDER_GROUP, contype=0, conaffinity=0)
            twin.name = f"{geom.name}__render" if geom.name else ""
            geom.group = HIDDEN_GROUP
        changed += 1
    return changed
