#!/usr/bin/env python3
"""Accuracy of soapix's GTO radial basis against the exact Löwdin factor S^-1/2.

Usage: python3 scripts/basis_accuracy.py /path/to/basis_dump   (about 40 s on 2 cores)

basis_dump is native/tools/basis_dump.cpp built with
  g++ -O2 -std=c++17 -Inative/src native/tools/basis_dump.cpp native/src/gto_basis.cpp \
      native/src/soap_params.cpp -o /tmp/basis_dump

For every parameter set the float64 alphas (ours; checked bit-for-bit against DScribe's in the
reference JSON and against numpy here) define the exact basis: S_kk' = 0.5 Gamma(l+3/2)
(alpha_k + alpha_k')^-(l+3/2) and beta_exact = S^-1/2 via a symmetric eigen-decomposition in
mpmath (mp.dps = 50, raised where cond(S) needs it). Reported per basis:
  coef: max |beta - beta_exact| / max |beta_exact|                  (over n, k; per l / overall)
  func: max |g_nl(r) - g_nl_exact(r)| / max |g_exact|               (over n and a radial grid)
        g_nl(r) = sum_k beta[l][n][k] r^l exp(-alpha_lk r^2), r in [0, rCut + 12], in mpmath.
The comparison bases are DScribe 2.1.1's betas from the reference cases a, b, c
(test/fixtures/reference/*.json.gz, docs/REFERENCE-DATA.md; $SOAPIX_REFERENCE_DIR names another
folder of <case>.json or <case>.json.gz files) and,
for the other parameter sets, scipy's sqrtm(inv(S)) in float64 (DScribe's algorithm, run with
the scipy installed here).
"""
import gzip
import json
import os
import subprocess
import sys
import time
from multiprocessing import Pool

import mpmath as mp
import numpy as np

REF = os.environ.get(
    "SOAPIX_REFERENCE_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "reference"),
)
REF_FILES = {
    "a": "a_paper_rc63_n7_l10_s3_train00000.json",
    "b": "b_gto_rc5_n4_l3_s1_train00000.json",
    "c": "c_gto_rc20_n9_l8_s2.5_train00000.json",
    "e": "e_water_gto_rc5_n4_l3_s0.5.json",
}


def reference_path(fname):
    """The case file in REF: <case>.json, else <case>.json.gz, else None."""
    for path in (os.path.join(REF, fname), os.path.join(REF, fname + ".gz")):
        if os.path.exists(path):
            return path
    return None


def read_reference(fname):
    path = reference_path(fname)
    if path is None:
        raise FileNotFoundError(f"{fname} not found in {REF}")
    with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
        return json.load(f)


# (label, rCut, nMax, lMax, reference case or None)
SETS = [
    ("a paper", 63.0, 7, 10, "a"),
    ("c", 20.0, 9, 8, "c"),
    ("b", 5.0, 4, 3, "b"),
    ("x1", 63.0, 12, 12, None),
    ("x2", 10.0, 10, 15, None),
    ("x3", 2.0, 8, 6, None),
]
NGRID = 240
BASE_DPS = 50


def numpy_alphas(rc, n, lmax):
    a = np.linspace(1, rc, n)
    return np.array([-np.log(1e-3 / np.power(a, l)) / a**2 for l in range(lmax + 1)])


def run_dump(exe, rc, n, lmax):
    out = subprocess.run([exe, repr(rc), str(n), str(lmax)], capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    return np.array(d["alphas"], dtype=np.float64), np.array(d["betas"], dtype=np.float64)


def scipy_betas(alphas):
    import warnings

    from scipy.linalg import inv, sqrtm
    from scipy.special import gamma

    warnings.simplefilter("ignore")  # LinAlgWarning: ill-conditioned (expected, that is the point)

    out = []
    for l, al in enumerate(alphas):
        m = al[:, None] + al[None, :]
        S = 0.5 * gamma(l + 1.5) * m ** (-l - 1.5)
        b = sqrtm(inv(S))
        out.append(np.real(b) if np.iscomplexobj(b) else b)
    return np.array(out)


def exact_inv_sqrt(al, l):
    """S^-1/2 from float64 alphas al; precision raised until cond(S) is comfortably covered."""
    n = len(al)
    dps = BASE_DPS
    while True:
        with mp.workdps(dps):
            c = mp.mpf("0.5") * mp.gamma(l + mp.mpf(3) / 2)
            S = mp.matrix(n, n)
            for i in range(n):
                for j in range(n):
                    S[i, j] = c * (mp.mpf(al[i]) + mp.mpf(al[j])) ** (-(l + mp.mpf(3) / 2))
            E, Q = mp.eigsy(S)
            emin, emax = min(E), max(E)
            need = int(mp.log10(emax / emin)) + 40 if emin > 0 else dps + 40
            if need <= dps:
                B = mp.matrix(n, n)
                w = [1 / mp.sqrt(e) for e in E]
                for i in range(n):
                    for j in range(i, n):
                        s = mp.fsum(Q[i, k] * Q[j, k] * w[k] for k in range(n))
                        B[i, j] = s
                        B[j, i] = s
                return B, float(emax / emin), dps
            dps = need


def prim_values(grid, al, l):
    """e_k(r) = r^l exp(-alpha_k r^2) for every grid point r."""
    return [[(r**l) * mp.exp(-mp.mpf(a) * r * r) for a in al] for r in grid]


def analyse(task):
    """Per l: coefficient and functional error of each basis against the exact S^-1/2 built from
    the same alphas that basis uses; plus the effect of DScribe's alphas differing from ours."""
    label, rc, n, lmax, alphas, bases = task  # bases: name -> (alphas, betas)
    mp.mp.dps = BASE_DPS
    grid = [mp.mpf(rc + 12) * i / (NGRID - 1) for i in range(NGRID)]
    rows = []
    for l in range(lmax + 1):
        res = {"l": l}
        exact = {}  # alphas tuple -> (B, prim, gex, gmax, bmax)
        for name, (al_all, betas) in bases.items():
            al = tuple(float(x) for x in al_all[l])
            if al not in exact:
                B, cond, dps = exact_inv_sqrt(list(al), l)
                with mp.workdps(dps):
                    prim = prim_values(grid, al, l)
                    gex = [[mp.fdot([B[i, k] for k in range(n)], p) for p in prim] for i in range(n)]
                    gmax = max(abs(v) for row in gex for v in row)
                    bmax = max(abs(B[i, j]) for i in range(n) for j in range(n))
                    # floor: the exact betas rounded to float64 (no float64 basis can do better)
                    rdiff = [[mp.mpf(float(B[i, k])) - B[i, k] for k in range(n)] for i in range(n)]
                    floor = max(abs(mp.fdot(rdiff[i], p)) for i in range(n) for p in prim) / gmax
                exact[al] = (B, prim, gex, gmax, bmax, dps)
                res.setdefault("cond", cond)
                res.setdefault("floor", float(floor))
            B, prim, gex, gmax, bmax, dps = exact[al]
            with mp.workdps(dps):
                bl = betas[l]
                diff = [[mp.mpf(float(bl[i][k])) - B[i, k] for k in range(n)] for i in range(n)]
                coef = max(abs(d) for row in diff for d in row) / bmax
                func = max(abs(mp.fdot(diff[i], p)) for i in range(n) for p in prim) / gmax
                same = sum(float(bl[i][k]) == float(B[i, k]) for i in range(n) for k in range(n))
            res[name] = (float(coef), float(func))
            res[name + "_same"] = (same, n * n)
        # exact basis from our alphas vs exact basis from DScribe's alphas (1-ulp alpha differences)
        if len(exact) == 2:
            (_, _, g1, gm1, _, _), (_, _, g2, _, _, _) = list(exact.values())
            res["alpha_effect"] = float(max(abs(g1[i][j] - g2[i][j]) for i in range(n) for j in range(NGRID)) / gm1)
        else:
            res["alpha_effect"] = 0.0
        rows.append(res)
    return label, rc, n, lmax, rows


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(1)
    exe = sys.argv[1]
    t0 = time.time()

    # ---- alphas: bit-for-bit against DScribe's (reference JSON) and numpy (here) ----
    print("alphas, bit comparison (ours = basis_dump):")
    for case, fname in REF_FILES.items():
        if reference_path(fname) is None:
            print(f"  {case}: {fname} missing in {REF}")
            continue
        d = read_reference(fname)
        p = d["params"]
        ref = np.array(d["basis"]["alphas"], dtype=np.float64)
        ours, _ = run_dump(exe, float(p["r_cut"]), int(p["n_max"]), int(p["l_max"]))
        npy = numpy_alphas(float(p["r_cut"]), int(p["n_max"]), int(p["l_max"]))
        ulps = np.abs(ours.view(np.int64) - ref.view(np.int64))
        print(
            f"  {case} (rc {p['r_cut']}, n {p['n_max']}, l {p['l_max']}): {ref.size} values, "
            f"{int(np.sum(ours != ref))} differ from DScribe (max {int(ulps.max())} ulp), "
            f"{int(np.sum(ours != npy))} differ from numpy {np.__version__} here"
        )
    extra_mis = 0
    extra_tot = 0
    for rc in [1.5, 2.0, 3.7, 5.0, 10.0, 20.0, 33.3, 63.0, 200.0]:
        for n in [1, 2, 3, 5, 8, 13, 20]:
            try:
                o, _ = run_dump(exe, rc, n, 19)
            except subprocess.CalledProcessError:
                continue  # basis rejected as singular (e.g. rc 1.5 with many n)
            npy = numpy_alphas(rc, n, 19)
            extra_mis += int(np.sum(o != npy))
            extra_tot += o.size
    print(f"  wider sweep (rc 1.5..200, n 1..20, l 0..19): {extra_mis} of {extra_tot} differ from numpy here")

    # ---- betas ----
    tasks = []
    for label, rc, n, lmax, case in SETS:
        alphas, ours = run_dump(exe, rc, n, lmax)
        bases = {"ours": (alphas, ours)}
        if case:
            d = read_reference(REF_FILES[case])
            ref_al = np.array(d["basis"]["alphas"], dtype=np.float64)
            bases["dscribe"] = (ref_al, np.array(d["basis"]["betas"], dtype=np.float64))
        else:
            bases["scipy"] = (alphas, scipy_betas(alphas))
        tasks.append((label, rc, n, lmax, alphas, bases))
    with Pool(min(len(tasks), os.cpu_count() or 1)) as pool:
        results = pool.map(analyse, tasks)

    print()
    print("betas vs the exact S^-1/2 of the same float64 alphas (mpmath), relative to the largest")
    print("exact value per l:  coef = max|beta - exact| / max|exact|,")
    print("func = max over n and r in [0, rc+12] of |g_nl - g_exact| / max|g_exact|.")
    print("floor = func of the exact betas rounded to float64 (the best any float64 basis can do).")
    print("'alpha' = func distance between the exact bases built from our alphas and from DScribe's.")
    hdr = (f"  {'set':8} {'rc':>5} {'n':>3} {'l':>3} {'cond(S)':>9} | {'floor':>8} | {'ours coef':>9} {'ours func':>9} |"
           f" {'other':7} {'coef':>9} {'func':>9} | {'alpha':>8}")
    print(hdr)
    summary = []
    for label, rc, n, lmax, rows in results:
        other = "dscribe" if "dscribe" in rows[0] else "scipy"
        for r in rows:
            print(f"  {label:8} {rc:5g} {n:3d} {r['l']:3d} {r['cond']:9.2e} {r['floor']:8.1e} | {r['ours'][0]:9.1e} {r['ours'][1]:9.1e} |"
                  f" {other:7} {r[other][0]:9.1e} {r[other][1]:9.1e} | {r['alpha_effect']:8.1e}")
        summary.append((label, rc, n, lmax, max(r["floor"] for r in rows),
                        max(r["ours"][0] for r in rows), max(r["ours"][1] for r in rows), other,
                        max(r[other][0] for r in rows), max(r[other][1] for r in rows),
                        max(r["alpha_effect"] for r in rows)))
    print()
    for label, rc, n, lmax, rows in results:
        same = sum(r["ours_same"][0] for r in rows)
        tot = sum(r["ours_same"][1] for r in rows)
        print(f"  {label}: {same} of {tot} of our betas equal the exact value rounded to float64")
    print()
    print("overall (max over l):")
    print(f"  {'set':8} {'rc':>5} {'n':>3} {'lmax':>4} {'floor':>8} | {'ours coef':>9} {'ours func':>9} |"
          f" {'other':7} {'coef':>9} {'func':>9} | {'alpha':>8}")
    for label, rc, n, lmax, fl, oc, of, other, dc, df, ae in summary:
        print(f"  {label:8} {rc:5g} {n:3d} {lmax:4d} {fl:8.1e} | {oc:9.1e} {of:9.1e} | {other:7} {dc:9.1e} {df:9.1e} | {ae:8.1e}")
    print(f"\n({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
