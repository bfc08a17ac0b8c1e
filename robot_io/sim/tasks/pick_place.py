"""Pick-and-place: grasp an object on the table and bring it to a goal point in the air.

Meta-World's pick-place scene with the object rebuilt per variant (cylinder or box, size,
colour) and the table and floor recoloured, so that "unseen object and background" variants
really look different. Success is strict: the object's centre within 3 cm of the goal
(Meta-World accepts 7 cm).
"""

from __future__ import annotations

import mujoco
import numpy as np

from robot_io.sim import scene
from robot_io.sim.tasks.base import PRIVILEGED_DIM, Task, free_joint_qpos, free_joint_qvel

SUCCESS_RADIUS = 0.03


class PickPlaceTask(Task):
    name = "pick_place"
    max_episode_steps = 250

    def build_spec(self) -> mujoco.MjSpec:
        p = self.params
        spec = scene.load_metaworld_spec("sawyer_xyz/sawyer_pick_place_v3.xml")
        geom = spec.geom("objGeom")
        geom.material = ""
        geom.rgba = list(p["rgba"])
        if p["shape"] == "box":
            geom.type = mujoco.mjtGeom.mjGEOM_BOX
            geom.size = [p["radius"], p["radius"], p["half_height"]]
        else:
            geom.type = mujoco.mjtGeom.mjGEOM_CYLINDER
            geom.size = [p["radius"], p["half_height"], 0]
        spec.body("obj").pos = [0, 0.6, p["half_height"]]
        scene.set_material_rgba(spec, "table_wood", p.get("table_rgba", (1, 1, 1, 1)))
        scene.set_material_rgba(spec, "basic_floor", p.get("floor_rgba", (1, 1, 1, 1)))
        return spec

    def bind(self, model: mujoco.MjModel) -> None:
        self._qpos = free_joint_qpos(model, "objjoint")
        self._qvel = free_joint_qvel(model, "objjoint")
        self._obj = model.body("obj").id
        self._goal = model.site("goal").id

    def randomize(self, sim, rng: np.random.Generator) -> None:
        obj = rng.uniform([-0.1, 0.6], [0.1, 0.7])
        goal = rng.uniform([-0.1, 0.8, 0.05], [0.1, 0.9, 0.3])
        sim.data.qpos[self._qpos] = [obj[0], obj[1], self.params["half_height"], 1, 0, 0, 0]
        sim.data.qvel[self._qvel] = 0.0
        sim.model.site_pos[self._goal] = goal

    def goal(self, sim) -> np.ndarray:
        return sim.model.site_pos[self._goal].copy()

    def evaluate(self, sim) -> tuple[bool, int]:
        dist = np.linalg.norm(sim.data.xpos[self._obj] - self.goal(sim))
        return bool(dist <= SUCCESS_RADIUS), 0

    def privileged(self, sim) -> np.ndarray:
        out = np.empty(PRIVILEGED_DIM)
        out[0:3] = sim.hand_pos
        out[3] = sim.gripper_opening
        out[4:7] = sim.data.xpos[self._obj]
        out[7:11] = sim.data.xquat[self._obj]
        out[11:14] = self.goal(sim)
        out[14:17] = sim.data.xpos[self._obj]
        return out
