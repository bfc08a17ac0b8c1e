"""Our own small generalist: an image + proprio + language-conditioned policy predicting action
chunks (torch, CPU-sized), trained on any contract dataset or mix (`train_generalist`), loaded as
an `rldg_data.policy.Policy` (`checkpoint.load_policy`), and evaluated in the simulated suite on
seen and unseen variants (`evaluate_generalist`)."""

from trainers.generalist.config import GeneralistConfig

__all__ = ["GeneralistConfig"]
