"""Demo profiles: how much of everything one `rldg demo` run does (`tiny`, `small`, `paper`, `full`).

A profile is a frozen dataclass of plain values; its dict goes into every stage's cache key, so a
change to one number reruns exactly the stages that depend on it. `small` is the default (under 30
minutes on 2 cores, starting from the committed specialist checkpoints); `paper` is every table of
the paper on CPU at the small profile's generalist settings (all three families, the data-efficiency
sweep, the ablations, unseen variants for every row, three training seeds per dataset: hours, see
`trainers.demo.budget`); `full` is the paper-scale run (128 px, GPU); `tiny` exists for the
end-to-end test (minutes, numbers meaningless).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rldg_data.errors import RldgError
from robot_io.sim.variants import TASKS  # the one task list

# The seen variants the specialists are trained on: one specialist per narrow task, as in RLDG.
SPECIALIST_VARIANTS: tuple[tuple[str, str], ...] = (
    ("insertion", "vga"), ("insertion", "ethernet"), ("insertion", "barrel"),
    ("pick_place", "red_cylinder"), ("pick_place", "blue_block"),
    ("assembly", "round_nut"),
)
USE_CASE_2_ROWS = ("rldg", "human_trimmed")  # the hand-off mix and the strongest human baseline it is called against
HANDOFF_TASKS = ("assembly",)  # long tasks: human proxy for the easy stages, specialist at the bottleneck
# The training datasets a profile may train generalists on (trainers.demo.recipes describes each).
DATASET_KINDS = ("rl", "human", "human_trimmed", "rldg", "relabeled")


@dataclasses.dataclass(frozen=True)
class DemoProfile:
    """episodes: successful episodes per seen variant and source in each training dataset;
    collect_factor: episodes recorded per wanted success (failures are filtered out by the mix);
    efficiency_sizes: episodes of one seen connector for the data-efficiency curve (both sources);
    specialist_minutes: training budget per specialist when one is (re)trained;
    tasks: the task families run: one generalist per family and training dataset, as the paper
    fine-tunes per task (a generalist over all three families learnt nothing at this budget);
    channels: the generalist's conv widths (small: 8-16-32-64, 0.55x the step cost of 16-32-64-64;
    BENCHMARKS.md "demo time budget");
    encoder / open_loop: the generalist's image encoder and whether it runs each action chunk to
    its end (decisions every `chunk` steps) instead of temporal ensembling; shift: random-shift
    augmentation of the generalist's training images, in pixels (BENCHMARKS.md "generalist": with
    6,000 steps it lifts seen insertion from 40% to 65%; it needs the longer training); window:
    observation frames the generalist sees (1: the current frame only, half the cost of a step:
    9,000 such steps gave 63%, in the time of 6,000 with two frames);
    efficiency: run the data-efficiency sweep (`rldg demo --efficiency` adds it to a small run);
    unseen_for: the training datasets whose generalists are also evaluated on unseen variants
    (the ablation rows are compared on the seen ones only, to fit the small profile's budget);
    report_each_dataset: `rldg report` of every training dataset, or only of the comparison one;
    datasets: the training datasets whose generalists the profile trains (the relabel ablation is
    left to the larger profiles by `small`, to fit its budget); handoff_eval_episodes: evaluation
    episodes per variant of a hand-off family (assembly has one seen and one unseen variant, so
    40 per variant gives the 40 + 40 whole-task episodes its comparison needs);
    handoff_seen_eval_episodes: episodes on a hand-off family's seen variant for the two rows
    use case 2 compares (`USE_CASE_2_ROWS`: the RLDG hand-off mix and cleaned human data; 0:
    handoff_eval_episodes): their gap, 20-27 points in seeds 0 and 1, needs ~100 episodes per
    rate for Wilson intervals that separate (RESULTS.md); the other rows keep 40;
    train_seeds / train_seeds_for: the generalist training seeds of the datasets in
    `train_seeds_for`: one generalist per training seed on the *same* dataset (built once with the
    run's seed; only the generalist's initialisation, batch sampling and augmentation change), so
    that a reader tells data effects from optimisation luck; () means the run's seed only, and a
    non-empty tuple must contain the run's seed (its generalist is the one of the main table)."""

    name: str
    episodes: int
    collect_factor: float
    generalist_steps: int
    eval_episodes: int
    efficiency_variant: tuple[str, str] = ("insertion", "vga")
    efficiency_sizes: tuple[int, ...] = (2, 4, 8, 16)
    efficiency_steps: int = 800
    efficiency_eval_episodes: int = 10
    specialist_eval_episodes: int = 20
    specialist_minutes: float = 5.0  # as train_all.sh; training stops at 0.95 success, in 0.2-4 CPU-min
    image_size: int = 64
    eval_max_steps: int = 0  # 0: the task's own limit
    workers: int = 2
    batch_size: int = 64
    seed: int = 0
    tasks: tuple[str, ...] = TASKS
    encoder: str = "flatten"
    channels: tuple[int, ...] = (16, 32, 64, 64)
    open_loop: bool = False
    shift: int = 4
    window: int = 2
    efficiency: bool = True
    unseen_for: tuple[str, ...] = ("rl", "rldg", "human", "human_trimmed", "relabeled")
    report_each_dataset: bool = True  # else only the RL-vs-human comparison dataset gets `rldg report`
    datasets: tuple[str, ...] = DATASET_KINDS
    handoff_eval_episodes: int = 0  # evaluation episodes per variant of a hand-off family (0: eval_episodes)
    handoff_seen_eval_episodes: int = 0  # ... on its seen variant, for USE_CASE_2_ROWS (0: as handoff_eval_episodes)
    train_seeds: tuple[int, ...] = ()  # () : the run's seed only
    train_seeds_for: tuple[str, ...] = ("human", "human_trimmed", "relabeled")

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "unseen_for", tuple(self.unseen_for))
        object.__setattr__(self, "datasets", tuple(self.datasets))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "train_seeds", tuple(int(s) for s in self.train_seeds))
        object.__setattr__(self, "train_seeds_for", tuple(self.train_seeds_for))
        if any(d not in DATASET_KINDS for d in self.train_seeds_for):
            raise RldgError(f"demo profile {self.name!r}: train_seeds_for must be some of {DATASET_KINDS}, "
                            f"got {self.train_seeds_for}")
        if self.train_seeds and (self.seed not in self.train_seeds
                                 or len(set(self.train_seeds)) != len(self.train_seeds)):
            raise RldgError(f"demo profile {self.name!r}: train_seeds must be distinct and contain the run's "
                            f"seed {self.seed}, got {self.train_seeds}")
        if not self.datasets or any(d not in DATASET_KINDS for d in self.datasets):
            raise RldgError(f"demo profile {self.name!r}: datasets must be some of {DATASET_KINDS}, "
                            f"got {self.datasets}")
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown or not self.tasks:
            raise RldgError(f"demo profile {self.name!r}: tasks must be some of {TASKS}, got {self.tasks}")
        for name in ("episodes", "generalist_steps", "eval_episodes", "efficiency_steps",
                     "efficiency_eval_episodes", "specialist_eval_episodes", "workers", "batch_size", "window"):
            if int(getattr(self, name)) <= 0:
                raise RldgError(f"demo profile {self.name!r}: {name} must be positive")
        for name in ("handoff_eval_episodes", "handoff_seen_eval_episodes"):
            if int(getattr(self, name)) < 0:
                raise RldgError(f"demo profile {self.name!r}: {name} must be >= 0")
        if self.collect_factor < 1:
            raise RldgError(f"demo profile {self.name!r}: collect_factor must be >= 1")
        if len(self.efficiency_sizes) < 1 or sorted(self.efficiency_sizes) != list(self.efficiency_sizes):
            raise RldgError(f"demo profile {self.name!r}: efficiency_sizes must be increasing")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def seen(self) -> list[tuple[str, str]]:
        """The specialists' (task, variant) pairs of the profile's task families."""
        return [tv for tv in SPECIALIST_VARIANTS if tv[0] in self.tasks]

    def eval_episodes_for(self, task: str) -> int:
        """Evaluation episodes per variant of one task family."""
        return self.handoff_eval_episodes if task in HANDOFF_TASKS and self.handoff_eval_episodes else self.eval_episodes

    def seen_eval_episodes_for(self, task: str, kind: str) -> int:
        """Evaluation episodes per seen variant of one task family for dataset `kind`'s generalist."""
        if task in HANDOFF_TASKS and kind in USE_CASE_2_ROWS and self.handoff_seen_eval_episodes:
            return self.handoff_seen_eval_episodes
        return self.eval_episodes_for(task)

    def seeds_for(self, kind: str) -> tuple[int, ...]:
        """The training seeds of dataset `kind`'s generalists, the run's seed first."""
        if kind not in self.train_seeds_for or not self.train_seeds:
            return (self.seed,)
        return (self.seed,) + tuple(s for s in self.train_seeds if s != self.seed)

    def attempts(self, wanted: int) -> int:
        """Episodes to record so that about `wanted` of them succeed."""
        return max(wanted, int(round(wanted * self.collect_factor)))


PROFILES: dict[str, DemoProfile] = {
    "tiny": DemoProfile(name="tiny", episodes=1, collect_factor=2.0, generalist_steps=20,
                        eval_episodes=1, efficiency_sizes=(1, 2, 3, 4), efficiency_steps=10,
                        efficiency_eval_episodes=1, specialist_eval_episodes=2,
                        specialist_minutes=0.5, eval_max_steps=20, batch_size=8, handoff_seen_eval_episodes=2,
                        train_seeds=(0, 1), train_seeds_for=("human", "relabeled")),
    # 6,000 steps to fit 30 min (9,000 took 33.8 min on an idle AMD EPYC; BENCHMARKS.md "demo time
    # budget" has both step counts' tables: the raw-human generalist is the one that needs the longer training)
    "small": DemoProfile(name="small", episodes=40, collect_factor=1.6, generalist_steps=6000, window=1,
                         eval_episodes=20, efficiency_sizes=(5, 10, 20, 40), efficiency_steps=9000,
                         efficiency_eval_episodes=20, tasks=("insertion", "assembly"), report_each_dataset=False,
                         efficiency=False, unseen_for=("rl", "rldg", "human", "human_trimmed"),
                         datasets=("rl", "human", "human_trimmed", "rldg"), handoff_eval_episodes=40,
                         handoff_seen_eval_episodes=100, channels=(8, 16, 32, 64)),
    # Every table the paper has, at the small profile's generalist settings but 9,000 steps (CPU, hours).
    "paper": DemoProfile(name="paper", episodes=40, collect_factor=1.6, generalist_steps=9000, window=1,
                         eval_episodes=20, efficiency_sizes=(5, 10, 20, 40), efficiency_steps=9000,
                         efficiency_eval_episodes=20, tasks=TASKS, report_each_dataset=False,
                         efficiency=True, unseen_for=DATASET_KINDS, datasets=DATASET_KINDS,
                         handoff_eval_episodes=40, channels=(8, 16, 32, 64), train_seeds=(0, 1, 2),
                         train_seeds_for=DATASET_KINDS),
    "full": DemoProfile(name="full", episodes=50, collect_factor=1.5, generalist_steps=20000,
                        eval_episodes=20, image_size=128, efficiency_sizes=(10, 25, 50, 100, 200),
                        efficiency_steps=10000, efficiency_eval_episodes=20,
                        specialist_eval_episodes=50, specialist_minutes=15.0),
}


def get_profile(name: str, seed: int | None = None, efficiency: bool | None = None) -> DemoProfile:
    """A profile by name; `seed` replaces its seed (collection, recipes, training, evaluation),
    `efficiency` whether it runs the data-efficiency sweep."""
    if name not in PROFILES:
        raise RldgError(f"unknown demo profile {name!r}; known: {', '.join(PROFILES)}")
    profile = PROFILES[name]
    if seed is not None:  # the training seeds move with the run's seed: s, s+1, ... stay s, s+1, ...
        shift = int(seed) - profile.seed
        profile = dataclasses.replace(profile, seed=int(seed),
                                      train_seeds=tuple(s + shift for s in profile.train_seeds))
    if efficiency is not None:
        profile = dataclasses.replace(profile, efficiency=bool(efficiency))
    return profile
