"""SciPy peers for `npm run bench -- --only drift`, run with a Python that has scipy and numpy.

Reads one JSON job from argv[1]: the float64 files of each numeric column and the int32 category
codes of each categorical one (reference and current, written by the Node side), and times the
same tests Stratum computes, as Evidently calls them: `wasserstein_distance / std` and
`jensenshannon` on category shares (`default`), or `ks_2samp` and `chisquare` (`exact`). Loading
the files is outside the timed region. Prints one JSON line: {"seconds": [...per round], ...}.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon


def main():
    job = json.loads(sys.argv[1])
    numeric = [(np.fromfile(c["reference"], dtype=np.float64), np.fromfile(c["current"], dtype=np.float64)) for c in job["numeric"]]
    categorical = [
        (np.fromfile(c["reference"], dtype=np.int32), np.fromfile(c["current"], dtype=np.int32), c["categories"])
        for c in job["categorical"]
    ]
    seconds = []
    checksum = 0.0
    for _ in range(job["rounds"]):
        started = time.perf_counter()
        checksum = 0.0
        for ref, cur in numeric:
            if job["tests"] == "default":
                checksum += stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
            else:
                checksum += stats.ks_2samp(ref, cur).statistic
        for ref, cur, k in categorical:
            ref_counts = np.bincount(ref, minlength=k).astype(np.float64)
            cur_counts = np.bincount(cur, minlength=k).astype(np.float64)
            if job["tests"] == "default":
                checksum += jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
            else:
                expected = ref_counts * cur_counts.sum() / ref_counts.sum()
                checksum += stats.chisquare(cur_counts, expected).statistic
        seconds.append(time.perf_counter() - started)
    print(json.dumps({"seconds": seconds, "checksum": float(checksum), "scipy": scipy.__version__, "numpy": np.__version__}))


main()
