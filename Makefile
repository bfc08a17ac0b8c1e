# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if missing and
# install the pinned dependencies (constraints.txt) first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export MUJOCO_GL ?= egl
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: demo test test-all bench install clean interop-env

# Side environment for tests/interop and benchmarks/bench_octo_loader.py: the consumers' own pins
# (constraints-interop.txt) and source (../shared/interop, or RLDG_INTEROP_SRC), created once and
# cached in .venv-interop (with Octo's training stack, issue 31: 527 s the first time on a loaded 2-core
# machine, mostly downloads; < 1 s when cached; with OpenVLA's data-path torch 2.13 CPU + transformers
# added, 309 s and 1167 s with a warm pip cache at load averages ~6 and ~10-14; 3.2 GB).
# Where it cannot be created the interop tests skip and say why; in CI (CI set) or with
# `make test INTEROP_REQUIRED=1` that is an error instead.
ifdef INTEROP_REQUIRED
export RLDG_INTEROP_REQUIRED := $(INTEROP_REQUIRED)
endif
interop-env:
	$(PYTHON) tests/interop/side_env.py --python $(PYTHON)

$(STAMP): setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.3.1"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rldg demo --profile small --out runs/demo

# Two pytest processes: MuJoCo's EGL renderer segfaults in a process that has imported TensorFlow
# (both bundle LLVM), so the tests that render in-process (tests/robot_io) run in one of their own.
test: $(STAMP) interop-env
	@command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null 2>&1 || echo "chromium unavailable: the HTML report test will skip"
	$(PY) -m pytest -m "not slow" tests/robot_io
	$(PY) -m pytest -m "not slow" tests builders --ignore=tests/robot_io

test-all: $(STAMP) interop-env
	$(PY) -m pytest tests/robot_io
	$(PY) -m pytest tests builders --ignore=tests/robot_io

bench: $(STAMP) interop-env
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) .venv-interop runs .pytest_cache
