"""FastAPI + uvicorn + onnxruntime: the server a Python user would write for the same ONNX files.

One InferenceSession per model in every uvicorn worker process, `session.run` once per request
(no batching), the OIP REST JSON route /v2/models/{model}/infer. Started by bench/peers:

    python fastapi_server.py --port 8000 --model mlp=/repo/mlp/1/model.onnx --workers 2 --intra-op-threads 1

uvicorn's workers are separate processes, each importing this module: the models and threads are
handed over in environment variables, read at import.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request, Response

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oip_json import decode_input, encode_outputs  # noqa: E402

MODELS_ENV = "STRATUM_PEER_MODELS"
THREADS_ENV = "STRATUM_PEER_INTRA_OP_THREADS"


def load_sessions() -> dict[str, ort.InferenceSession]:
    models = json.loads(os.environ.get(MODELS_ENV, "{}"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get(THREADS_ENV, "0"))
    options.inter_op_num_threads = 1
    return {
        name: ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for name, path in models.items()
    }


sessions = load_sessions()
app = FastAPI()


@app.get("/v2/health/ready")
async def ready() -> dict:
    return {"ready": True}


@app.post("/v2/models/{model}/infer")
async def infer(model: str, request: Request) -> Response:
    session = sessions.get(model)
    if session is None:
        return Response(status_code=404, content=b'{"error":"unknown model"}', media_type="application/json")
    name, data = decode_input(await request.body())
    names = [o.name for o in session.get_outputs()]
    arrays = session.run(names, {name: data})
    return Response(content=encode_outputs(model, names, arrays), media_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", action="append", required=True, help="name=path of model.onnx")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--intra-op-threads", type=int, default=1)
    args = parser.parse_args()
    os.environ[MODELS_ENV] = json.dumps(dict(m.split("=", 1) for m in args.model))
    os.environ[THREADS_ENV] = str(args.intra_op_threads)
    import uvicorn

    uvicorn.run(
        "fastapi_server:app",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
