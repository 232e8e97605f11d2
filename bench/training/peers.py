"""Peer trainers for `npm run bench -- --only training`, run with Debian's /usr/bin/python3.

Reads one JSON job from argv[1], trains or ingests exactly as described on the float32 matrices the
Node side wrote, writes the peer's predictions (float32, one per validation row: P(class 1)) and
prints one JSON line: {"seconds": fit-or-read time, ...}. Only the timed region is the work itself
(data loading and prediction are outside it), as on the Node side.
"""
import json
import sys
import time

import numpy as np


def load(job, name, dtype=np.float32):
    return np.fromfile(job[name], dtype=dtype)


def matrices(job):
    n_features = job["numFeatures"]
    x_train = load(job, "trainFeatures").reshape(-1, n_features)
    y_train = load(job, "trainLabels")
    x_valid = load(job, "validFeatures").reshape(-1, n_features)
    return x_train, y_train, x_valid


def xgboost_job(job):
    import xgboost as xgb

    x_train, y_train, x_valid = matrices(job)
    p = job["params"]
    dtrain = xgb.DMatrix(x_train, label=y_train, nthread=job["threads"])
    dvalid = xgb.DMatrix(x_valid, nthread=job["threads"])
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "max_bin": p["maxBins"],
        "max_depth": p["maxDepth"],
        "eta": p["learningRate"],
        "lambda": p["lambda"],
        "min_child_weight": p["minChildWeight"],
        "nthread": job["threads"],
        "seed": 0,
        "base_score": float(y_train.mean()),
    }
    started = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=p["numTrees"])
    seconds = time.perf_counter() - started
    booster.predict(dvalid).astype(np.float32).tofile(job["predictions"])
    return {"seconds": seconds, "version": xgb.__version__}


def sklearn_logistic_job(job):
    import sklearn
    from sklearn.linear_model import LogisticRegression

    x_train, y_train, x_valid = matrices(job)
    p = job["params"]
    # Stratum minimises mean log-loss + l2/2 * |W|^2; scikit-learn C * sum log-loss + 1/2 * |W|^2.
    c = 1.0 / (p["l2"] * x_train.shape[0])
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=p["epochs"], tol=1e-6)
    started = time.perf_counter()
    cpu_started = time.process_time()
    model.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    # CPU time of every thread of the process: steadier than wall time on a busy machine.
    cpu_seconds = time.process_time() - cpu_started
    model.predict_proba(x_valid)[:, 1].astype(np.float32).tofile(job["predictions"])
    return {"seconds": seconds, "cpuSeconds": cpu_seconds, "iterations": int(model.n_iter_[0]), "version": sklearn.__version__}


def pandas_csv_job(job):
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(job["csv"], dtype=np.float32)
    matrix = frame.to_numpy(dtype=np.float32)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": int(matrix.shape[0]), "checksum": float(matrix[:, 0].astype(np.float64).sum()), "version": pd.__version__}


JOBS = {"xgboost": xgboost_job, "sklearn-logistic": sklearn_logistic_job, "pandas-csv": pandas_csv_job}

if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    print(json.dumps(JOBS[job["task"]](job)))
