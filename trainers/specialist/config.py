"""Frozen configs of a specialist run: the SAC agent (`SACConfig`) and the run around it (`TrainConfig`).

Both are plain dataclasses of JSON-able values: a checkpoint's policy.json stores them, so the exact
settings that made a checkpoint travel with it. Values are checked where the config is built.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from rldg_data.configs import dataclass_from_dict
from rldg_data.errors import ConfigError


def _check(ok: Any, message: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{message}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class SACConfig:
    """SAC with an ensemble of LayerNorm critics, tanh-Gaussian actor and auto-tuned temperature.

    Why each default is what it is, with the runs that chose it: BENCHMARKS.md, "specialist design
    choices". Each entry below is also the `--help` of its `rldg specialist train` option.

    hidden: hidden layer sizes of the actor and critic MLPs.
    batch_size: transitions per gradient update.
    utd_ratio: critic updates per decision (RLPD/HIL-SERL use a high ratio); the actor and
      temperature are updated once per decision, as in HIL-SERL's launcher.
    demo_fraction: share of each batch drawn from the demonstration buffer (RLPD's symmetric
      sampling is 0.5); 0 samples only online data.
    discount: per decision. 0.97 as HIL-SERL at 10 Hz, which suits the default action repeat of 4
      (20 Hz decisions); use 0.99 when acting at the simulator's 80 Hz (action repeat 1).
    bc_weight: weight of a behaviour-cloning term (squared error of the deterministic action) on the
      demonstration samples of each batch; 0 turns it off.
    q_weight, normalize_q: weight of the -Q term in the actor loss; with normalize_q it is divided by
      the batch's mean |Q| (TD3+BC's lambda = 2.5 / mean |Q|), so BC does not dominate.
    init_temperature: the entropy temperature at the start (tuned automatically afterwards).
    normalize_obs, relative_obs: feed the networks standardised observations (demo statistics) plus
      hand-to-object and task-point-to-goal offsets (`sac.observation_transform`, folded into the
      exported actor).
    offset_obs: feed the networks only offsets (hand to grasp point, task point to goal), heights
      and the gripper opening (`sac.offset_transform`) instead of raw coordinates, which the policy
      would memorise; folded into the exported actor. Needs robot_io's 17-d privileged layout.
    mc_lower_bound: critic targets are max(TD target, discounted return actually collected from
      that transition), so the return of demos reaches the start of a long episode at once.
    The critic's output layer starts at zero (networks.Critic), as rewards are in [0, 1].
    """

    hidden: tuple[int, ...] = (128, 128)
    num_critics: int = 2
    discount: float = 0.97
    tau: float = 0.005
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    temp_lr: float = 3e-4
    init_temperature: float = 0.1
    target_entropy: Optional[float] = None  # None: -action_dim / 2 (HIL-SERL's default)
    batch_size: int = 256
    utd_ratio: int = 1
    demo_fraction: float = 0.5
    bc_weight: float = 1.0
    log_std_min: float = -5.0
    log_std_max: float = 2.0
    q_weight: float = 2.5
    normalize_q: bool = True
    normalize_obs: bool = False
    relative_obs: bool = False
    offset_obs: bool = True
    mc_lower_bound: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        _check(all(h > 0 for h in self.hidden) and self.hidden, "hidden sizes must be positive", self.hidden)
        _check(self.num_critics >= 2, "num_critics must be >= 2 (clipped double Q)", self.num_critics)
        _check(0.0 < self.discount < 1.0, "discount must be in (0, 1)", self.discount)
        _check(0.0 < self.tau <= 1.0, "tau must be in (0, 1]", self.tau)
        _check(self.batch_size >= 2, "batch_size must be >= 2", self.batch_size)
        _check(self.utd_ratio >= 1, "utd_ratio must be >= 1", self.utd_ratio)
        _check(0.0 <= self.demo_fraction < 1.0, "demo_fraction must be in [0, 1)", self.demo_fraction)
        _check(self.bc_weight >= 0.0, "bc_weight must be >= 0", self.bc_weight)
        _check(self.init_temperature > 0.0, "init_temperature must be > 0", self.init_temperature)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One specialist run: which task variant, how many demos, how long, when to evaluate and stop.

    Why each default is what it is, with the runs that chose it: BENCHMARKS.md, "specialist design
    choices". Each entry below is also the `--help` of its `rldg specialist train` option.

    demos: demonstrations collected live for the demo buffer.
    demo_dataset: a contract RLDS dataset to take demonstrations from; None collects `demos`
      episodes from the task's `demonstrator`.
    demonstrator: who gives live demonstrations: the human proxy or the scripted expert.
    minutes: time limit of the run (see clock).
    clock: what `minutes` limits: "wall" time, or this process's "cpu" time (the honest measure of
      minutes on one core when other jobs share the machine).
    max_env_steps: control steps after which training stops.
    eval_every: control steps between evaluations.
    eval_episodes: episodes per evaluation (strict success rate, median steps to success).
    success_threshold: stop once (confirmed) evaluations reach this success rate `patience` times in
      a row; above the 0.9 a benchmark asks for, as the best of many evaluations overestimates.
    confirm_episodes: episodes added to an evaluation that reaches `success_threshold` before it
      counts (for early stopping and for the best checkpoint).
    patience: evaluations at the threshold in a row before stopping.
    start_steps: control steps of uniform random actions before the actor acts (and learns).
    update_every: decisions between update calls; each call runs that many update rounds in one
      jitted scan (same update-to-data ratio, fewer dispatches).
    step_cost: reward per decision subtracted from the sparse success reward (0 = pure sparse):
      shorter cycles than the demonstrations, and standing still costs.
    bc_skip_idle: leave demo steps without hand motion (the human proxy's pauses) out of the BC term
      (they stay in the replay buffer); a deterministic policy cannot model a pause.
    action_repeat: control steps each action is held; the agent decides at 1/action_repeat of the
      simulator's 80 Hz (HIL-SERL acts at 10 Hz). Demonstrations become one transition per start
      step (sliding windows, the mean of the window's actions); `discount`, `update_every` and
      `utd_ratio` count decisions; `eval_every`, `start_steps` and `max_env_steps` count control
      steps. The checkpoint stores it, and its policy holds each action as long.
    imitate_successes: the BC term also imitates the agent's own successful online episodes
      (self-imitation), not only the demonstrations.
    start_stage: the stage episodes start at; -1 means the task's `bottleneck_stage` (assembly).
    seed: seeds the environment, the demonstrations and the networks.
    """

    task: str
    variant: str
    out: str
    demos: int = 20
    demo_dataset: Optional[str] = None
    demonstrator: str = "human"
    minutes: float = 15.0
    max_env_steps: int = 200_000
    eval_every: int = 5_000
    eval_episodes: int = 20
    success_threshold: float = 0.95
    confirm_episodes: int = 30
    patience: int = 2
    start_steps: int = 1_000
    update_every: int = 10
    clock: str = "wall"
    step_cost: float = 0.01
    bc_skip_idle: bool = True
    action_repeat: int = 4
    imitate_successes: bool = False
    start_stage: int = 0
    seed: int = 0
    sac: SACConfig = SACConfig()

    def __post_init__(self) -> None:
        if isinstance(self.sac, Mapping):
            object.__setattr__(self, "sac", sac_from_dict(self.sac))
        _check(self.demos >= 0, "demos must be >= 0", self.demos)
        _check(self.minutes > 0, "minutes must be > 0", self.minutes)
        _check(self.eval_every > 0 and self.eval_episodes > 0, "eval_every and eval_episodes must be > 0",
               (self.eval_every, self.eval_episodes))
        _check(0.0 < self.success_threshold <= 1.0, "success_threshold must be in (0, 1]", self.success_threshold)
        _check(self.update_every >= 1, "update_every must be >= 1", self.update_every)
        _check(self.action_repeat >= 1, "action_repeat must be >= 1", self.action_repeat)
        _check(self.clock in ("wall", "cpu"), "clock must be 'wall' or 'cpu'", self.clock)
        _check(self.patience >= 1, "patience must be >= 1", self.patience)
        _check(self.confirm_episodes >= 0, "confirm_episodes must be >= 0", self.confirm_episodes)
        _check(self.step_cost >= 0.0, "step_cost must be >= 0", self.step_cost)
        _check(self.demonstrator in ("human", "expert"), "demonstrator must be 'human' or 'expert'",
               self.demonstrator)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["sac"]["hidden"] = list(self.sac.hidden)
        return out


def sac_from_dict(values: Mapping[str, Any]) -> SACConfig:
    """SACConfig from a stored mapping; an unknown key is an error naming it."""
    return dataclass_from_dict(SACConfig, dict(values), "SAC config")


def train_from_dict(values: Mapping[str, Any]) -> TrainConfig:
    """TrainConfig from a stored mapping; an unknown key is an error naming it."""
    return dataclass_from_dict(TrainConfig, dict(values), "train config")

