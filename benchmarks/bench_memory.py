"""Peak memory (maximum resident set size, from ``/usr/bin/time -v``) of exact evaluation and of
``evaluate_files``, against the size of the inputs (and, for the exact evaluation, in copies of the
scores beyond the inputs and the compiled kernels it loads).

    python benchmarks/bench_memory.py                # N = 1e7 and 2e7, K = 10, float32 scores
    python benchmarks/bench_memory.py --rows 1000000  # a quicker look

Each measurement runs in its own process (``/usr/bin/time -v python bench_memory.py --child ...``),
so one peak never hides in another; the inputs are written to a temporary folder first (.npy
for the in-memory run, Parquet for the files run) and loaded by the child.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

K = 10


def write_inputs(folder: str, n: int) -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, K, n)
    scores = np.empty((n, K), dtype=np.float32)
    for start in range(0, n, 1 << 20):  # written a block at a time: the parent stays small too
        block = rng.random((min(1 << 20, n - start), K), dtype=np.float32)
        block[np.arange(block.shape[0]), y_true[start:start + block.shape[0]]] += 1.0
        scores[start:start + block.shape[0]] = block / block.sum(axis=1, keepdims=True)
    np.save(os.path.join(folder, "y_true.npy"), y_true)
    np.save(os.path.join(folder, "y_score.npy"), scores)
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(os.path.join(folder, "preds.parquet"),
                          pa.schema([("y_true", pa.int64()), *[(f"p_{k}", pa.float32()) for k in range(K)]])) as writer:
        for start in range(0, n, 1 << 20):
            stop = min(start + (1 << 20), n)
            writer.write_table(pa.table({"y_true": y_true[start:stop],
                                         **{f"p_{k}": scores[start:stop, k] for k in range(K)}}))


def child(mode: str, folder: str) -> None:
    import toolkit

    if mode == "loaded":  # the inputs alone: the baseline the others are compared with
        np.load(os.path.join(folder, "y_true.npy")), np.load(os.path.join(folder, "y_score.npy"))
    elif mode == "loaded+numba":  # ... and the compiled kernels that large exact evaluations load
        np.load(os.path.join(folder, "y_true.npy")), np.load(os.path.join(folder, "y_score.npy"))
        import toolkit_metrics.log_loss_compiled  # noqa: F401  (numba and its compiler)
        import toolkit_metrics.packed_sort  # noqa: F401
    elif mode == "exact":
        y_true = np.load(os.path.join(folder, "y_true.npy"))
        scores = np.load(os.path.join(folder, "y_score.npy"))
        toolkit.evaluate(y_true, y_score=scores, labels=list(range(K)))
    else:
        toolkit.evaluate_files(os.path.join(folder, "preds.parquet"), y_true="y_true", y_score="p_*",
                               labels=list(range(K)), exact=mode == "files-exact")


def peak_megabytes(mode: str, folder: str) -> float:
    completed = subprocess.run(["/usr/bin/time", "-v", sys.executable, __file__, "--child", mode, folder],
                               capture_output=True, text=True, check=True)
    kilobytes = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr).group(1)
    return int(kilobytes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, nargs="+", default=[1e7, 2e7])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    print(f"load: {os.getloadavg()[0]:.1f} (1-minute average)")
    for rows in args.rows:
        n = int(rows)
        with tempfile.TemporaryDirectory() as folder:
            write_inputs(folder, n)
            inputs = n * (8 + 4 * K) / 2 ** 20
            print(f"N = {n:.0e}, K = {K}, float32 scores + int64 labels = {inputs:.0f} MB")
            scores = n * 4 * K / 2 ** 20
            peaks = {}
            for mode in ("loaded", "loaded+numba", "exact", "files-bounded", "files-exact"):
                peaks[mode] = peak = peak_megabytes(mode, folder)
                print(f"  {mode:14} peak RSS {peak:8.0f} MB  ({peak / inputs:.2f} x the inputs)")
            print(f"  exact evaluation beyond the loaded inputs and numba: "
                  f"{(peaks['exact'] - peaks['loaded+numba']) / scores:.2f} x the scores ({scores:.0f} MB)")


if __name__ == "__main__":
    main()
