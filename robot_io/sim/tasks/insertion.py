"""Connector insertion: grasp a peg lying on the table and push its tip into a fitted hole.

Built on Meta-World's peg-insert-side scene; the peg and the hole plate are rebuilt per variant
with `MjSpec`: the peg's cross-section (rectangle, round, cross, keyed D-shape) is a union of
primitives, the plate is a wall whose opening is that cross-section grown by the clearance,
decomposed into boxes. Success is strict: the peg tip at least 2 cm past the entrance face and
inside the opening (Meta-World's own test only checks the tip is near the mouth).
"""

from __future__ import annotations

import math
from typing import Sequence

import mujoco
import numpy as np

from rldg_data.errors import ConfigError
from robot_io.sim import scene
from robot_io.sim.tasks.base import PRIVILEGED_DIM, Task, free_joint_qpos, free_joint_qvel

PLATE_DEPTH = 0.04      # thickness of the wall the hole goes through
PLATE_HALF_WIDTH = 0.09
HOLE_HEIGHT = 0.10      # height of the hole axis above the table
SUCCESS_DEPTH = 0.02    # tip past the entrance face
GRASP_OFFSET = 0.04     # grasp point behind the peg centre (away from the tip)

Rect = tuple[float, float, float, float]  # y_lo, y_hi, z_lo, z_hi (around the peg axis)


def cross_section(shape: str, hw: float, hh: float) -> list[Rect]:
    """The peg's cross-section as a union of rectangles (a round peg by its bounding square)."""
    if shape in ("rect", "round"):
        return [(-hw, hw, -hh, hh)]
    if shape == "cross":
        t_y, t_z = 0.35 * hw, 0.35 * hh
        return [(-hw, hw, -t_z, t_z), (-t_y, t_y, -hh, hh)]
    if shape == "dshape":  # keyed: the upper half is narrower and shifted (one corner cut)
        return [(-hw, hw, -hh, 0.0), (-hw, 0.4 * hw, 0.0, hh)]
    raise ConfigError(f"unknown peg shape {shape!r}")


def opening(shape: str, hw: float, hh: float, clearance: float) -> list[Rect]:
    """The hole: the cross-section grown by `clearance` on every side (a 12-gon staircase
    that contains the grown disk for a round peg)."""
    if shape == "round":
        big = hw + clearance
        a = 0.5 * big
        b = math.sqrt(big * big - a * a)
        return [(-big, big, -a, a), (-a, a, -big, big), (-b, b, -b, b)]
    return [(y0 - clearance, y1 + clearance, z0 - clearance, z1 + clearance)
            for y0, y1, z0, z1 in cross_section(shape, hw, hh)]


def _inside(rects: Sequence[Rect], y: float, z: float) -> bool:
    return any(y0 <= y <= y1 and z0 <= z <= z1 for y0, y1, z0, z1 in rects)


def wall_boxes(holes: Sequence[Rect], top: float) -> list[tuple[float, float, float, float]]:
    """Cells (y0, y1, z0, z1) in plate coordinates (z from the table) that are solid."""
    ys = sorted({-PLATE_HALF_WIDTH, PLATE_HALF_WIDTH, *[v for r in holes for v in r[:2]]})
    zs = sorted({0.0, top, *[HOLE_HEIGHT + v for r in holes for v in r[2:]]})
    cells = []
    for y0, y1 in zip(ys, ys[1:]):
        for z0, z1 in zip(zs, zs[1:]):
            if not _inside(holes, (y0 + y1) / 2, (z0 + z1) / 2 - HOLE_HEIGHT):
                cells.append((y0, y1, z0, z1))
    return cells


class InsertionTask(Task):
    name = "insertion"
    max_episode_steps = 400

    def build_spec(self) -> mujoco.MjSpec:
        p = self.params
        spec = scene.load_metaworld_spec("sawyer_xyz/sawyer_peg_insertion_side.xml")
        spec.detach_body(spec.body("peg"))
        spec.detach_body(spec.body("box"))
        self._add_peg(spec, p)
        self._add_plate(spec, p)
        scene.set_material_rgba(spec, "table_wood", p.get("table_rgba", (1, 1, 1, 1)))
        return spec

    def _add_peg(self, spec: mujoco.MjSpec, p) -> None:
        half_len, hw, hh = p["length"] / 2, p["half_width"], p["half_height"]
        body = spec.worldbody.add_body(name="peg", pos=[0, 0.6, hh])
        # Meta-World's trick: a huge rotational inertia keeps the grasped peg level.
        body.explicitinertial = True
        body.mass = 0.1
        body.inertia = [1e5, 1e5, 1e5]
        body.add_freejoint(name="peg_joint")
        common = dict(rgba=list(p["rgba"]), contype=1, conaffinity=1, group=1,
                      friction=[1.0, 0.005, 0.0001], condim=4)
        if p["shape"] == "round":
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[hw, half_len, 0],
                          quat=[math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0], **common)
        else:
            for y0, y1, z0, z1 in cross_section(p["shape"], hw, hh):
                body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX,
                              size=[half_len, (y1 - y0) / 2, (z1 - z0) / 2],
                              pos=[0, (y0 + y1) / 2, (z0 + z1) / 2], **common)
        # A light tip cap, so the connector end is visible in images.
        body.add_site(name="pegHead", pos=[-half_len, 0, 0], size=[0.004, 0, 0], rgba=[0.1, 0.1, 0.1, 1])
        body.add_site(name="pegEnd", pos=[half_len, 0, 0], size=[0.004, 0, 0], rgba=[0.1, 0.1, 0.1, 1])
        body.add_site(name="pegGrasp", pos=[GRASP_OFFSET, 0, 0], size=[0.003, 0, 0], rgba=[0, 0, 0, 0])

    def _add_plate(self, spec: mujoco.MjSpec, p) -> None:
        body = spec.worldbody.add_body(name="box", pos=[-0.3, 0.6, 0])
        holes = opening(p["shape"], p["half_width"], p["half_height"], p["clearance"])
        top = HOLE_HEIGHT + max(r[3] for r in holes) + 0.04
        for y0, y1, z0, z1 in wall_boxes(holes, top):
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX,
                          size=[PLATE_DEPTH / 2, (y1 - y0) / 2, (z1 - z0) / 2],
                          pos=[-PLATE_DEPTH / 2, (y0 + y1) / 2, (z0 + z1) / 2],
                          rgba=list(p["plate_rgba"]), contype=1, conaffinity=1, group=1,
                          solimp=[0.99, 0.99, 0.01, 0.5, 2], solref=[0.01, 1])
        body.add_site(name="hole", pos=[0, 0, HOLE_HEIGHT], size=[0.003, 0, 0], rgba=[0, 0, 0, 0])

    def bind(self, model: mujoco.MjModel) -> None:
        self._qpos = free_joint_qpos(model, "peg_joint")
        self._qvel = free_joint_qvel(model, "peg_joint")
        self._peg = model.body("peg").id
        self._box = model.body("box").id
        self._head = model.site("pegHead").id
        self._grasp = model.site("pegGrasp").id
        self._hole = model.site("hole").id
        p = self.params
        self._holes = opening(p["shape"], p["half_width"], p["half_height"], p["clearance"])

    def randomize(self, sim, rng: np.random.Generator) -> None:
        peg_xy = rng.uniform([0.0, 0.5], [0.2, 0.7])
        box_xy = rng.uniform([-0.35, 0.45], [-0.25, 0.7])
        sim.model.body_pos[self._box] = [box_xy[0], box_xy[1], 0.0]
        sim.data.qpos[self._qpos] = [peg_xy[0], peg_xy[1], self.params["half_height"], 1, 0, 0, 0]
        sim.data.qvel[self._qvel] = 0.0

    def hole_entrance(self, sim) -> np.ndarray:
        return sim.data.site_xpos[self._hole].copy()

    def peg_tip(self, sim) -> np.ndarray:
        return sim.data.site_xpos[self._head].copy()

    def evaluate(self, sim) -> tuple[bool, int]:
        tip, hole = self.peg_tip(sim), self.hole_entrance(sim)
        deep = tip[0] <= hole[0] - SUCCESS_DEPTH
        inside = _inside(self._holes, tip[1] - hole[1], tip[2] - hole[2])
        return bool(deep and inside), 0

    def privileged(self, sim) -> np.ndarray:
        out = np.empty(PRIVILEGED_DIM)
        out[0:3] = sim.hand_pos
        out[3] = sim.gripper_opening
        out[4:7] = sim.data.site_xpos[self._grasp]
        out[7:11] = sim.data.xquat[self._peg]
        out[11:14] = self.hole_entrance(sim)
        out[14:17] = self.peg_tip(sim)
        return out
