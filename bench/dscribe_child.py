#!/usr/bin/env python3
"""DScribe's side of bench/engine.mjs (`npm run bench -- --dscribe /path/to/python`).

    python bench/dscribe_child.py points.bin rCut nMax lMax sigma n_jobs

Reads the structures that bench/engine.mjs wrote (int32 [count, 0], int32 points per structure,
padding to 8 bytes, then float64 x, y, z of every point), makes every point a hydrogen atom (one
species; every point a centre, as soapix's bench does) and times DScribe's SOAP.create on all of
them with n_jobs processes, float64, GTO basis, no periodicity. Prints one JSON line:
{"seconds", "cpuSeconds" (this process only; null when n_jobs > 1), "rows", "cols", "version"}.
"""
import json
import sys
import time

import numpy as np
from ase import Atoms
from dscribe.descriptors import SOAP


def read_points(path):
    raw = open(path, "rb").read()
    count = int(np.frombuffer(raw, dtype=np.int32, count=1)[0])
    sizes = np.frombuffer(raw, dtype=np.int32, count=count, offset=8)
    offset = 8 + 4 * count + (4 * count) % 8
    xyz = np.frombuffer(raw, dtype=np.float64, offset=offset).reshape(-1, 3)
    structures, start = [], 0
    for n in sizes:
        structures.append(Atoms(symbols=["H"] * int(n), positions=xyz[start:start + n]))
        start += int(n)
    return structures


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    path = sys.argv[1]
    r_cut, n_max, l_max, sigma = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    n_jobs = int(sys.argv[6])
    structures = read_points(path)
    soap = SOAP(species=["H"], r_cut=r_cut, n_max=n_max, l_max=l_max, sigma=sigma, rbf="gto",
                periodic=False, sparse=False, dtype="float64")
    t0, c0 = time.perf_counter(), time.process_time()
    out = soap.create(structures, n_jobs=n_jobs)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = sum(len(s) for s in structures)
    cols = soap.get_number_of_features()
    try:
        from importlib.metadata import version
        ver = version("dscribe")
    except Exception:  # noqa: BLE001 - the version is informative only
        ver = "unknown"
    if isinstance(out, list):
        assert sum(o.shape[0] for o in out) == rows
    else:
        assert out.shape[-1] == cols
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu if n_jobs == 1 else None, "rows": rows,
                      "cols": cols, "version": ver}))


if __name__ == "__main__":
    main()
