"""The reference of the explain benchmark: shap.TreeExplainer (path-dependent, the C++ TreeSHAP)
on the same trees Stratum explains, given as shap's custom tree dicts with the same covers.

Usage: python shap-peer.py <trees.json> <values-out.f64>
Prints one JSON line: {"seconds": ..., "shap": "<version>"}.
"""
import json
import sys
import time

import numpy as np
import shap

with open(sys.argv[1]) as f:
    job = json.load(f)
trees = []
for t in job["trees"]:
    trees.append(
        {
            "children_left": np.array(t["left"]),
            "children_right": np.array(t["right"]),
            "children_default": np.array(t["right"]),
            "features": np.array(t["feature"]),
            "thresholds": np.array(t["threshold"], dtype=np.float64),
            "values": np.array(t["value"], dtype=np.float64)[:, None],
            "node_sample_weight": np.array(t["cover"], dtype=np.float64),
        }
    )
model = {"trees": trees, "base_offset": float(job["base"]), "tree_output": "raw_value"}
explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
rows = np.array(job["rows"], dtype=np.float32).reshape(-1, job["numFeatures"])
explainer.shap_values(rows[:10], check_additivity=False)  # warm-up
best = float("inf")
for _ in range(job["repeats"]):
    start = time.perf_counter()
    values = explainer.shap_values(rows, check_additivity=False)
    best = min(best, time.perf_counter() - start)
np.asarray(values, dtype=np.float64).tofile(sys.argv[2])
print(json.dumps({"seconds": best, "shap": shap.__version__}))
