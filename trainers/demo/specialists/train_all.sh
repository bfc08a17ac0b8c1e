#!/usr/bin/env bash
# Trains the specialist checkpoints the small demo profile starts from (`rldg demo` uses them
# unless --retrain). Run from the repository root with the project's venv:
#   bash trainers/demo/specialists/train_all.sh
# Each checkpoint folder gets the exact command that made it in COMMAND.txt.
set -euo pipefail
here=trainers/demo/specialists
run() {  # task variant extra-args...
  local task=$1 variant=$2; shift 2
  local out=$here/$task-$variant
  # The trainer's defaults (trainers/specialist/config.py): SAC + 50/50 demo buffer + BC term on
  # hand-to-object / task-to-goal offsets, deciding at 20 Hz (action repeat 4), a per-decision
  # cost, a TD3+BC-normalised Q term; it stops once 50-episode evaluations reach 0.95 twice.
  local cmd=(.venv/bin/rldg specialist train --task "$task" --variant "$variant" --out "$out"
             --demos 20 --minutes 5 --clock cpu --eval-every 2500 --seed 0 "$@")
  echo "${cmd[*]}"
  "${cmd[@]}"
  echo "${cmd[*]}" > "$out/COMMAND.txt"
}
# Two at a time (each run is single-threaded and budgets CPU time, not wall time).
run insertion vga & run insertion ethernet & wait
run insertion barrel & run pick_place red_cylinder & wait
run pick_place blue_block & run assembly round_nut --start-stage bottleneck & wait
