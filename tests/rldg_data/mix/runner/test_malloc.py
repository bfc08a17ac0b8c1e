"""The Dask nanny's fixed malloc thresholds are undone where the mix runs (rldg_data.mix.runner.malloc)."""

import subprocess
import sys

import pytest

from rldg_data.mix.runner.malloc import fixed_thresholds_set

PROBE = r"""
import resource
from rldg_data.mix.runner.malloc import undo_fixed_malloc_thresholds

def faults_of_reallocating(n=60, size=4 * 2**20):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        buf = bytearray(size)  # zeroed: touches every page
        del buf
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults_of_reallocating(2)
fixed = faults_of_reallocating()
changed = undo_fixed_malloc_thresholds()
faults_of_reallocating(2)
print(changed, fixed, faults_of_reallocating())
"""


def _probe(env):
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    changed, fixed, undone = out.stdout.split()
    return changed == "True", int(fixed), int(undone)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_process_started_with_dasks_trim_threshold_stops_faulting_in_each_buffer():
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    changed, fixed, undone = _probe({**env, "MALLOC_TRIM_THRESHOLD_": "65536"})
    assert changed
    # 60 fresh 4 MiB buffers: each one mmap'd and faulted in page by page (~1,000 faults) while the
    # thresholds are fixed; reused heap memory (almost no faults) once they are raised.
    assert fixed > 30_000 and undone < fixed / 20, (fixed, undone)
    # Without the variable, nothing is changed.
    assert _probe(env)[0] is False


def test_which_variables_fix_the_thresholds():
    assert fixed_thresholds_set({"MALLOC_TRIM_THRESHOLD_": "65536", "PATH": "/bin"}) == ["MALLOC_TRIM_THRESHOLD_"]
    assert fixed_thresholds_set({"PATH": "/bin"}) == []
