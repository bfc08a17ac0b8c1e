"""The mix's local runner: Beam's FnApiRunner, with `--workers N` processes forked from a zygote.

`ForkingFnApiRunner` is the FnApiRunner unchanged except for one thing: in multi-processing mode
(`direct_running_mode=multi_processing`, what `rldg mix --workers N` sets) the environment Beam
gives the pipeline, "start `python -m apache_beam.runners.worker.sdk_worker_main` per worker", is
swapped for `FORKED_URN`, whose handler asks the shared zygote (`rldg_data.mix.runner.zygote`) for a fork
that already holds Beam and the mix code. Everything else, bundles, data and state planes,
splitting, is Beam's. Where forking is not available (not Linux, or RLDG_MIX_FORKED_WORKERS=0) the
pipeline runs exactly as on the plain FnApiRunner.

A worker that dies in the middle of a bundle (killed, out of memory) fails the run with an error
naming its pid and exit code, instead of leaving the driver waiting for a reply that will not come.
"""

from __future__ import annotations

import logging
import os
import sys

from apache_beam.portability import python_urns
from apache_beam.portability.api import beam_runner_api_pb2, endpoints_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.portability.fn_api_runner.worker_handlers import GrpcWorkerHandler, WorkerHandler
from google.protobuf import json_format, text_format

from rldg_data.mix.runner import zygote

log = logging.getLogger(__name__)

FORKED_URN = "beam:env:rldg_forked_python_worker:v1"
_BEAM_WORKER_COMMAND = "-m apache_beam.runners.worker.sdk_worker_main"  # the end of Beam's command
STOP_TIMEOUT_S = 60.0  # a worker exits within milliseconds of the control stream closing


class ForkingFnApiRunner(FnApiRunner):
    """FnApiRunner whose multi-processing workers are forks of a preloaded zygote."""

    def run_via_runner_api(self, pipeline_proto, options):
        if zygote.available():
            for env in pipeline_proto.components.environments.values():
                if _is_beam_subprocess_worker(env):
                    env.urn = FORKED_URN
        return super().run_via_runner_api(pipeline_proto, options)


def _is_beam_subprocess_worker(env: beam_runner_api_pb2.Environment) -> bool:
    """Beam's own multi-processing environment (its payload is the command line, as bytes)."""
    return (env.urn == python_urns.SUBPROCESS_SDK
            and env.payload.decode(errors="replace").endswith(_BEAM_WORKER_COMMAND))


@WorkerHandler.register_environment(FORKED_URN, None)
class ForkedSdkWorkerHandler(GrpcWorkerHandler):
    """Starts its SDK worker as a fork of the shared zygote, with the environment Beam's
    `SubprocessSdkWorker` gives a new interpreter (control, logging, options, worker id)."""

    def __init__(self, payload, state, provision_info, grpc_server) -> None:
        super().__init__(state, provision_info, grpc_server)
        self._worker = None
        self._stopping = False

    def start_worker(self) -> None:
        env = dict(
            os.environ,
            CONTROL_API_SERVICE_DESCRIPTOR=text_format.MessageToString(
                endpoints_pb2.ApiServiceDescriptor(url=self.control_address)),
            LOGGING_API_SERVICE_DESCRIPTOR=text_format.MessageToString(self.logging_api_service_descriptor()),
            PIPELINE_OPTIONS=json_format.MessageToJson(self.provision_info.provision_info.pipeline_options),
            WORKER_ID=self.worker_id)
        self._worker = zygote.shared_pool().spawn(env, on_exit=self._ended)

    def _ended(self, worker: zygote.ForkedWorker) -> None:
        if self._stopping:
            return
        why = worker.error or f"exit code {worker.exit_code}"
        self.control_conn.abort(RuntimeError(
            f"Beam worker process {worker.pid} ({self.worker_id}) ended in the middle of the run: {why}"))

    def stop_worker(self) -> None:
        """After a run: waits for the worker to exit (it does when its control stream ends). When the
        run is being abandoned (an exception on its way out: Ctrl-C, another worker's death), ends
        it at once rather than after the bundle it is in the middle of."""
        self._stopping = True
        worker = self._worker
        if worker is None:
            return
        if sys.exc_info()[0] is not None:
            worker.terminate()
            worker.wait(5.0)
            return
        if not worker.wait(STOP_TIMEOUT_S):
            log.error("Beam worker process %s did not exit %.0f s after its run ended: killed",
                      worker.pid, STOP_TIMEOUT_S)
            worker.kill()
            worker.wait(5.0)
        elif worker.exit_code:
            log.error("Beam worker process %s exited with code %s", worker.pid, worker.exit_code)
