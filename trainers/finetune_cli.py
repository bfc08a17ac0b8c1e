"""`rldg finetune octo|openvla DATASET`: export a contract dataset for Octo or OpenVLA fine-tuning,
and launch it in the user's own environment for that project when one is given."""

from __future__ import annotations

import argparse


def register_finetune(sub) -> None:
    from rldg_data.exports.octo_layout import PRETRAINED, PRIMARY_SIZE, WRIST_SIZE
    from rldg_data.exports.openvla_preflight import VLA_PATH

    p = sub.add_parser(
        "finetune", help="export a dataset for Octo / OpenVLA fine-tuning (and launch it)",
        description=(
            "Write what Octo's or OpenVLA's fine-tuning needs to read a contract dataset: dataset "
            "kwargs / registration entries, dataset_statistics.json and a fine-tune config. With "
            "--octo-python / --openvla-python, run that project's fine-tuning script in its own "
            "Python environment (both pin tensorflow 2.15, so they cannot share rldg's).\n\n"
            "Octo: runs Octo's own scripts/finetune.py unchanged from --pretrained (hf://... needs "
            "network; or a local checkpoint), logs its loss to OUT/runs/metrics.jsonl and saves its "
            "checkpoint under OUT/runs; evaluate it with `rldg generalist eval --policy octo:RUN "
            "--octo-python PY`. Verified here on CPU without network, from a small checkpoint made "
            "with Octo's API (tests/interop/test_octo_finetune.py); octo-small-1.5 itself and "
            "language conditioning were not (no model hub).\n\n"
            "OpenVLA: with --openvla-python, prints the command, then runs the export's "
            "openvla_preflight.py in that Python (registers the dataset and resolves it through "
            "OpenVLA's OXE registry and TFDS; looks for finetune.py's modules, the weights of "
            "--vla-path in a local folder or the Hugging Face cache without downloading, and a CUDA "
            "GPU) and stops with one error line listing what is missing; otherwise it runs `PY -m "
            "torch.distributed.run --standalone --nnodes 1 --nproc-per-node 1 OUT/openvla_launch.py "
            "REPO/vla-scripts/finetune.py --vla_path ... --dataset_name ...` (LoRA rank 32, batch 16, "
            "lr 5e-4, image_aug; WANDB_MODE=offline), which downloads openvla/openvla-7b (~15 GB) "
            "unless cached and needs a GPU (~72 GB at batch 16). Verified here on CPU without network: OpenVLA's "
            "own RLDSDataset + RLDSBatchTransform + ActionTokenizer + PaddedCollatorForActionPrediction "
            "over the export, with a small offline tokenizer "
            "(tests/interop/test_openvla_training_data.py), and this command with OpenVLA's source "
            "up to torchrun: the printed command, the dataset resolved by OpenVLA's registry, the "
            "one-line error without weights (tests/interop/test_openvla_launch.py). Not verified: "
            "finetune.py itself (no GPU, no weights, no timm/peft here), the 7B model, its tokenizer "
            "and image processor. See README.md."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    targets = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    octo = targets.add_parser("octo", help="Octo: dataset kwargs, statistics, finetune config")
    octo.add_argument("dataset", help="contract dataset folder (anything else is refused)")
    octo.add_argument("--out", help="export folder (default: <data_dir>/<builder>_<config>_octo beside the dataset)")
    octo.add_argument("--steps", type=int, default=5000, help="fine-tuning steps in the config")
    octo.add_argument("--batch-size", type=int, default=64)
    octo.add_argument("--pretrained", default=PRETRAINED,
                      help="checkpoint to fine-tune: hf://owner/name (downloads; needs network) or a "
                           "local folder written by Octo's OctoModel.save_pretrained (default %(default)s)")
    octo.add_argument("--primary-size", type=int, default=PRIMARY_SIZE,
                      help="primary camera size Octo resizes to (octo-small/base-1.5: %(default)s)")
    octo.add_argument("--wrist-size", type=int, default=WRIST_SIZE,
                      help="wrist camera size Octo resizes to (octo-small/base-1.5: %(default)s)")
    octo.add_argument("--octo-python", help="Python of an Octo install: launch scripts/finetune.py")
    octo.add_argument("--octo-repo", help="Octo git clone (default: found from the octo package)")
    octo.add_argument("--wandb-mode", choices=("disabled", "offline", "online"),
                      help="WANDB_MODE of the run (default: $WANDB_MODE, else disabled); the loss "
                           "finetune.py logs is also written to OUT/runs/metrics.jsonl")
    octo.add_argument("--force", action="store_true",
                      help="replace an earlier Octo export at --out (refused while it holds anything "
                           "else, a training run's runs/ folder included)")
    octo.set_defaults(func=_run_octo)
    vla = targets.add_parser("openvla", help="OpenVLA: 7-D/224px dataset copy, registration, statistics")
    vla.add_argument("dataset", help="contract dataset folder (anything else is refused)")
    vla.add_argument("--out", help="export folder (default: <data_dir>/<name>_openvla)")
    vla.add_argument("--camera", choices=("primary", "wrist"), default="primary",
                     help="camera OpenVLA loads as its primary (the only one LoRA fine-tuning uses)")
    vla.add_argument("--openvla-python", help="Python of an OpenVLA install: check it (preflight), then "
                     "launch vla-scripts/finetune.py with torchrun")
    vla.add_argument("--openvla-repo", help="OpenVLA git clone (default: found from the prismatic package); "
                     "also written into the export's README launch line")
    vla.add_argument("--vla-path", default=VLA_PATH,
                     help="model finetune.py starts from: a Hugging Face id (downloaded unless in the "
                          "cache; HF_HUB_OFFLINE=1 forbids it) or a folder with its weights (default %(default)s)")
    vla.add_argument("--force", action="store_true",
                     help="replace an earlier OpenVLA export at --out (refused while it holds anything else)")
    vla.set_defaults(func=_run_openvla)


def _run_octo(args) -> int:
    from rldg_data.exports.octo import export_octo
    from trainers.octo_launch import launch_octo

    import sys

    from rldg_data.io.reader import open_dataset
    from rldg_data.exports.common import fallback_val_episodes

    out = export_octo(args.dataset, args.out, steps=args.steps, batch_size=args.batch_size,
                      force=args.force, pretrained=args.pretrained, primary_size=args.primary_size,
                      wrist_size=args.wrist_size)
    print(f"Octo export written to {out} (see {out / 'README.md'})")
    if fallback_val_episodes(open_dataset(args.dataset)) == 0:
        print("warning: the dataset has no val split and too few episodes for Octo's train[95%:]: "
              "scripts/finetune.py will fail building its validation data (see README.md)", file=sys.stderr)
    if args.octo_python:
        from trainers.octo_launch import checkpoints, read_metrics

        metrics = out / "runs" / "metrics.jsonl"
        metrics.unlink(missing_ok=True)
        code = launch_octo(out, args.octo_python, args.octo_repo, wandb_mode=args.wandb_mode, metrics=metrics)
        losses = [(m["step"], m["training/loss"]) for m in read_metrics(metrics) if "training/loss" in m]
        if losses:
            print(f"Octo training loss: {losses[0][1]:.4f} at step {losses[0][0] + 1}, "
                  f"{losses[-1][1]:.4f} at step {losses[-1][0] + 1} ({metrics})")
        saved = checkpoints(out)
        if code == 0 and saved:
            print(f"Octo checkpoint: {saved[-1]} (evaluate: rldg generalist eval --policy octo:{saved[-1]} "
                  "--octo-python PY)")
        return code
    print(f"Next: install Octo and fine-tune as {out / 'README.md'} says, or rerun with "
          "--octo-python PATH_TO_OCTO_PYTHON to launch scripts/finetune.py")
    return 0


def _run_openvla(args) -> int:
    from rldg_data.exports.openvla import export_openvla
    from trainers.openvla import launch_openvla

    out = export_openvla(args.dataset, args.out, camera=args.camera, openvla_repo=args.openvla_repo,
                         vla_path=args.vla_path, force=args.force)
    print(f"OpenVLA export written to {out} (see {out / 'README.md'})")
    if args.openvla_python:
        return launch_openvla(out, args.openvla_python, args.openvla_repo)
    print(f"Next: install OpenVLA and fine-tune as {out / 'README.md'} says, or rerun with "
          "--openvla-python PATH_TO_OPENVLA_PYTHON --openvla-repo OPENVLA_CLONE to launch it")
    return 0
