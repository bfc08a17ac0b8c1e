"""MuJoCo scene helpers shared by every task: load a Meta-World model into an `MjSpec`, add our
cameras, recolour materials, and the visual settings that make CPU offscreen rendering fast.

Tasks edit geometry with `mujoco.MjSpec` (Meta-World only ships XML); everything that is common
to all tasks (cameras, render quality, mocap weld) lives here so each task module holds only its
own objects.
"""

from __future__ import annotations

import os
from typing import Sequence

import mujoco
import numpy as np
from metaworld.asset_path_utils import full_V3_path_for

# The gripper hangs from the mocap body with this orientation (Meta-World's fixed hand quaternion).
HAND_QUAT = np.array([1.0, 0.0, 1.0, 0.0])
# Meta-World's weld data: the hand follows the mocap pose exactly.
WELD_DATA = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0])

MAIN_CAMERA = "rldg_main"
WRIST_CAMERA = "rldg_wrist"


def load_metaworld_spec(xml_name: str) -> mujoco.MjSpec:
    """The `MjSpec` of one of Meta-World's shipped scenes, e.g. `sawyer_xyz/sawyer_pick_place_v3.xml`."""
    return mujoco.MjSpec.from_file(full_V3_path_for(xml_name))


def lookat_quat(pos: Sequence[float], target: Sequence[float], up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Quaternion of a camera at `pos` looking at `target` with `up` pointing up in the image.

    MuJoCo cameras look along their -z axis with +y up, so defining the frame this way gives
    upright images (Meta-World's corner cameras are defined with y down and come out flipped).
    """
    pos, target, up = (np.asarray(v, dtype=float) for v in (pos, target, up))
    forward = target - pos
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, forward)
    rot = np.stack([right, cam_up, -forward], axis=1)  # columns: camera x, y, z in world
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, rot.reshape(-1))
    return quat


def add_cameras(spec: mujoco.MjSpec, pos: Sequence[float], target: Sequence[float],
                fovy: float = 45.0) -> None:
    """Adds the main (fixed, upright) camera and a wrist camera on the hand looking between the
    fingers."""
    spec.worldbody.add_camera(name=MAIN_CAMERA, pos=list(pos), quat=list(lookat_quat(pos, target)),
                              fovy=fovy)
    # Wrist camera: in world terms it sits 8 cm behind/above the fingertips looking down and
    # forward; expressed in the hand frame (hand orientation is fixed by HAND_QUAT).
    hand_rot = np.zeros(9)
    mujoco.mju_quat2Mat(hand_rot, HAND_QUAT / np.linalg.norm(HAND_QUAT))
    hand_rot = hand_rot.reshape(3, 3)
    world_offset = np.array([0.0, -0.08, 0.06])
    world_quat = lookat_quat(world_offset, [0.0, 0.02, -0.12], up=(0.0, 1.0, 0.0))
    world_rot = np.zeros(9)
    mujoco.mju_quat2Mat(world_rot, world_quat)
    local_rot = hand_rot.T @ world_rot.reshape(3, 3)
    local_quat = np.zeros(4)
    mujoco.mju_mat2Quat(local_quat, local_rot.reshape(-1))
    spec.body("hand").add_camera(name=WRIST_CAMERA, pos=list(hand_rot.T @ world_offset),
                                 quat=list(local_quat), fovy=75.0)


def set_material_rgba(spec: mujoco.MjSpec, material: str, rgba: Sequence[float]) -> None:
    """Recolours a material; a textured material keeps its texture, tinted by `rgba`."""
    spec.material(material).rgba = list(rgba)


def fast_render_settings(model: mujoco.MjModel, size: int) -> None:
    """No multisampling, offscreen buffer big enough for `size`: far faster CPU rendering
    (BENCHMARKS.md, "Design measurements")."""
    model.vis.quality.offsamples = 0
    model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), size)
    model.vis.global_.offheight = max(int(model.vis.global_.offheight), size)


def single_thread_software_gl() -> None:
    """Mesa's software rasterizer (llvmpipe, what EGL/OSMesa use without a GPU) draws in the
    calling thread instead of handing each frame to a pool of rasterizer threads: a 64-128 px frame
    is too small to split, the hand-off costs more than the drawing, and two simulators on two
    cores oversubscribe them (BENCHMARKS.md "demo time budget": ~2x faster frames). Read by Mesa
    when the first GL context of the process is made; a user's own LP_NUM_THREADS wins."""
    os.environ.setdefault("LP_NUM_THREADS", "0")


def disable_costly_flags(scene: mujoco.MjvScene) -> None:
    """Shadows, reflections and skybox off (call after each `update_scene`)."""
    scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
    scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
    scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0


def reset_mocap_welds(model: mujoco.MjModel) -> None:
    """Makes the hand follow the mocap body exactly (as Meta-World does)."""
    for i in range(model.neq):
        if model.eq_type[i] == mujoco.mjtEq.mjEQ_WELD:
            model.eq_data[i] = WELD_DATA

