"""Ray Serve with @serve.batch: the same ONNX files behind Ray's HTTP proxy, batched per replica.

One Serve application per model at /v2/models/{model}; its deployment answers POST .../infer.
Requests are decoded in the replica and gathered by @serve.batch into one `session.run`. Ray runs
locally (no dashboard). Started by bench/peers:

    python ray_server.py --port 8000 --model mlp=/repo/mlp/1/model.onnx [--replicas 1]
        [--intra-op-threads 0] [--max-batch-size 32] [--batch-wait-ms 2]

prints {"httpPort": N} once every application is running, and shuts Ray down on SIGTERM.
"""

import argparse
import json
import os
import signal
import sys

import numpy as np
import onnxruntime as ort
import ray
from ray import serve
from starlette.requests import Request
from starlette.responses import Response

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oip_json import decode_input, encode_outputs  # noqa: E402


def build_deployment(args: argparse.Namespace):
    @serve.deployment(
        num_replicas=args.replicas,
        # Enough requests in flight per replica for @serve.batch to fill its batches.
        max_ongoing_requests=max(256, args.max_batch_size),
        ray_actor_options={"num_cpus": 0},
    )
    class OnnxModel:
        def __init__(self, model: str, path: str, intra_op_threads: int) -> None:
            # Replicas are separate processes: the module path must be importable there too.
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            options = ort.SessionOptions()
            options.intra_op_num_threads = intra_op_threads
            options.inter_op_num_threads = 1
            self.model = model
            self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            self.input = self.session.get_inputs()[0].name
            self.outputs = [o.name for o in self.session.get_outputs()]

        @serve.batch(max_batch_size=args.max_batch_size, batch_wait_timeout_s=args.batch_wait_ms / 1000)
        async def run_batch(self, rows: list[np.ndarray]) -> list[list[np.ndarray]]:
            counts = [r.shape[0] for r in rows]
            arrays = self.session.run(self.outputs, {self.input: np.concatenate(rows)})
            answers, start = [], 0
            for count in counts:
                answers.append([a[start : start + count] for a in arrays])
                start += count
            return answers

        async def __call__(self, request: Request) -> Response:
            if request.method != "POST" or not request.url.path.endswith("/infer"):
                return Response(status_code=404)
            _, data = decode_input(await request.body())
            arrays = await self.run_batch(data)
            return Response(content=encode_outputs(self.model, self.outputs, arrays), media_type="application/json")

    return OnnxModel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", action="append", required=True, help="name=path of model.onnx")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--intra-op-threads", type=int, default=0, help="0: onnxruntime's default")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--batch-wait-ms", type=float, default=2.0)
    args = parser.parse_args()

    ray.init(
        num_cpus=os.cpu_count(),
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=256 * 1024 * 1024,
        logging_level="warning",
    )
    serve.start(http_options={"host": "127.0.0.1", "port": args.port}, logging_config={"log_level": "WARNING"})
    deployment = build_deployment(args)
    for spec in args.model:
        name, path = spec.split("=", 1)
        app = deployment.bind(name, path, args.intra_op_threads)
        serve.run(app, name=name, route_prefix=f"/v2/models/{name}", blocking=False)

    def stop(*_: object) -> None:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({"httpPort": args.port, "ray": ray.__version__}), flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
