"""`make_demonstrator(kind, env)`: every source of demonstrations behind one interface.

A demonstrator has `source` (the RLDS step source it records as), `policy_id`, `reset(seed)` and
`act(obs) -> float32[4]`, like `rldg_data.policy.Policy`, so collectors treat demonstrators and
trained checkpoints alike.
"""

from __future__ import annotations

from rldg_data.errors import RldgError

KINDS = ("expert", "human", "teleop")


def make_demonstrator(kind: str, env, seed: int = 0, *, tuned_to: str | None = None,
                      device=None, config=None):
    """kind "expert": the scripted expert (`tuned_to`: assume another variant's geometry);
    "human": the human proxy over the expert; "teleop": a person at `device` (robot_io.teleop)."""
    sim = getattr(env, "sim", env)  # accept DmEnv / GymEnv too
    from robot_io.sim.experts import make_expert

    if kind == "expert":
        return make_expert(sim, tuned_to=tuned_to)
    if kind == "human":
        from robot_io.sim.human_proxy import HumanProxy, HumanProxyConfig

        return HumanProxy(make_expert(sim, tuned_to=tuned_to), seed=seed, config=config or HumanProxyConfig())
    if kind == "teleop":
        from robot_io.teleop import KeyboardDevice, TeleopDemonstrator

        return TeleopDemonstrator(device if device is not None else KeyboardDevice())
    raise RldgError(f"unknown demonstrator kind {kind!r}; known: {', '.join(KINDS)}")
