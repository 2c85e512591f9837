// GTO radial basis (docs/CONVENTIONS.md §2).
//
// alphas: the float64 values of DScribe 2.1.1's get_basis_gto, evaluated in numpy's order
//   a        = numpy.linspace(1, rCut, nMax)
//   alpha_lk = -log(1e-3 / pow(a_k, l)) / (a_k * a_k)
// With glibc's (correctly rounded) log these equal numpy's bit for bit. The reference JSON files
// were made with a numpy whose float64 log is sometimes 1 ulp low (a SIMD log); there 1-2 ulp
// differences in ~15% of the alphas remain. The exact bases built from either set of alphas
// differ by < 1e-16 of max|g_nl| (scripts/basis_accuracy.py), far below DScribe's own error.
//
// betas: the Löwdin factor S^-1/2 of the overlap matrix
//   S_kk' = 0.5 Gamma(l + 3/2) (alpha_lk + alpha_lk')^-(l + 3/2)
// built from those float64 alphas, by a symmetric eigen-decomposition in binary128
// (__float128). S is extremely ill-conditioned (cond 4.7e31 at rCut 63, nMax 7, l 10) but
// strongly graded: C = D^-1/2 S D^-1/2 (D = diag S) has a condition number of only ~1e2..1e5 for
// such parameters. Two-sided Jacobi with the relative stopping rule |s_pq| <= eps sqrt(s_pp s_qq)
// finds eigenvalues and eigenvectors of such a matrix to a relative accuracy of about
// eps * cond(C) (Demmel & Veselic 1992). To save binary128 sweeps, a float64 Jacobi provides
// approximate eigenvectors first, which binary128 re-orthonormalises and then polishes.
// The betas come out as the exact S^-1/2 correctly rounded to float64 in every tested case,
// whereas DScribe's float64 sqrtm(inv(S)) is 1.3e-5 (of max|g_nl|) off at l = 10 of the paper
// parameters. cond(C) is estimated first (binary128 Cholesky); beyond 1e24 the basis is
// rejected as numerically singular (DScribe itself fails beyond cond(C) ~ 1e17).
//
// Only +, -, *, / and conversions of __float128 are used; they come from libgcc (soft-fp), so
// libquadmath is not needed. sqrt is a Newton iteration seeded with sqrtl. Where __float128 is
// not available, long double is used (binary128 on aarch64 Linux; 80-bit x87; or plain double on
// Apple arm64 / MSVC) - still Jacobi, still far more accurate than DScribe, but not exact for
// the most ill-conditioned parameter sets.
#include "gto_basis.h"

#include <cfloat>
#include <cmath>
#include <sstream>
#include <string>

#include "soap_params.h"

namespace soapix {
namespace {

// ---- extended-precision scalar -----------------------------------------------------------
#if defined(__SIZEOF_FLOAT128__) && !defined(SOAPIX_NO_FLOAT128)
using Quad = __float128;  // IEEE binary128, 113-bit significand (x86-64, ppc64le with GCC/Clang)
constexpr int kQuadMantissaBits = 113;
#else
using Quad = long double;  // see the file comment
constexpr int kQuadMantissaBits = LDBL_MANT_DIG;
#endif

// 2^-(bits-1): unit roundoff times two.
Quad quadEpsilon() {
  Quad e = 1;
  for (int i = 1; i < kQuadMantissaBits; ++i) e /= 2;
  return e;
}

inline Quad qabs(Quad x) { return x < 0 ? -x : x; }

// sqrt: seed from long double (64-bit on x86, ample), then Newton steps; each step doubles the
// number of correct bits, two are more than enough for 113 bits.
Quad qsqrt(Quad x) {
  if (!(x > 0)) return 0;
  Quad y = static_cast<Quad>(std::sqrt(static_cast<long double>(x)));
  for (int i = 0; i < 2; ++i) y = (y + x / y) / 2;
  return y;
}

inline double qsqrtT(double x) { return std::sqrt(x); }
inline Quad qsqrtT(Quad x) { return qsqrt(x); }  // Quad is never the type double

// pi to ~160 bits as a sum of three doubles (pi = hi + mid + lo).
Quad quadPi() {
  const double hi = 0x1.921fb54442d18p+1;
  const double mid = 0x1.1a62633145c07p-53;
  const double lo = -0x1.f1976b7ed8fbcp-109;
  return static_cast<Quad>(hi) + static_cast<Quad>(mid) + static_cast<Quad>(lo);
}

// 0.5 * Gamma(l + 3/2) = 0.5 * (2l+1)!! / 2^(l+1) * sqrt(pi). (2l+1)!! is exact in binary128 up
// to l = 25 (39!! < 2^79 for l = 19).
Quad halfGammaLPlus3Half(int l) {
  Quad dfact = 1;
  for (int k = 3; k <= 2 * l + 1; k += 2) dfact *= k;
  Quad p2 = 1;
  for (int k = 0; k < l + 2; ++k) p2 *= 2;
  return dfact / p2 * qsqrt(quadPi());
}

// x^n, n >= 0, by binary powering (at most ~2 log2 n roundings).
Quad qpowi(Quad x, int n) {
  Quad r = 1;
  while (n > 0) {
    if (n & 1) r *= x;
    x *= x;
    n >>= 1;
  }
  return r;
}

std::string fmtDouble(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

// ---- numpy-exact alphas ------------------------------------------------------------------

// numpy.linspace(start, stop, num) (endpoint=True, float64): step = (stop-start)/(num-1),
// y_k = k*step + start (two separate roundings, no FMA), y[num-1] = stop; num == 1 gives [start].
std::vector<double> numpyLinspace(double start, double stop, int num) {
  std::vector<double> y(static_cast<size_t>(num));
  if (num == 1) {
    y[0] = start;
    return y;
  }
  const double div = static_cast<double>(num - 1);
  const double step = (stop - start) / div;
  for (int k = 0; k < num; ++k) {
    // volatile keeps the compiler from fusing the multiply and add into an FMA.
    volatile double prod = static_cast<double>(k) * step;
    y[static_cast<size_t>(k)] = prod + start;
  }
  y[static_cast<size_t>(num - 1)] = stop;
  return y;
}

// -np.log(threshold / np.power(a, l)) / a**2, elementwise, evaluated in numpy's order:
// p = pow(a, l); q = 1e-3 / p; n = -log(q); alpha = n / (a*a)   (a**2 is numpy's square: a*a).
double numpyAlpha(double a, int l) {
  const double p = std::pow(a, static_cast<double>(l));
  const double q = 1e-3 / p;
  const double num = -std::log(q);
  const double a2 = a * a;
  return num / a2;
}

// ---- symmetric eigen-decomposition -------------------------------------------------------

// Cyclic two-sided Jacobi on the symmetric n x n matrix A (row-major, overwritten: eigenvalues
// end up on the diagonal). Every rotation is also applied to the columns of V (pass the identity
// to get the eigenvectors of A, or an orthogonal Q to get those of Q A Q^T). A rotation (p, q) is
// skipped when |a_pq| <= tol * sqrt(|a_pp a_qq|), the relative criterion under which Jacobi keeps
// the relative accuracy of graded positive definite matrices. Returns the number of sweeps that
// rotated, or -1 if it did not converge.
template <typename T>
int jacobiEigen(std::vector<T>& A, std::vector<T>& V, int n, T tol) {
  const T tol2 = tol * tol;
  const T big = static_cast<T>(1099511627776.0) * static_cast<T>(1099511627776.0);  // 2^80
  T* a = A.data();
  T* v = V.data();
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (int p = 0; p < n - 1; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const T apq = a[p * n + q];
        if (apq == 0) continue;
        const T app = a[p * n + p], aqq = a[q * n + q];
        const T prod = app * aqq;
        if (apq * apq <= tol2 * (prod < 0 ? -prod : prod)) continue;
        rotated = true;
        // Rotation angle as in Rutishauser's / Numerical Recipes' `jacobi`; off-diagonal entries
        // are updated in the plain (c, s) form (6 operations instead of 8 per entry).
        const T theta = (aqq - app) / (2 * apq);
        const T atheta = theta < 0 ? -theta : theta;
        T t;
        if (atheta > big) {
          t = 1 / (2 * theta);
        } else {
          t = 1 / (atheta + qsqrtT(theta * theta + 1));
          if (theta < 0) t = -t;
        }
        const T c = 1 / qsqrtT(t * t + 1);
        const T s = t * c;
        const T h = t * apq;
        a[p * n + p] = app - h;
        a[q * n + q] = aqq + h;
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (int r = 0; r < n; ++r) {
          if (r == p || r == q) continue;
          const T g = a[r * n + p], hh = a[r * n + q];
          const T np = c * g - s * hh;
          const T nq = s * g + c * hh;
          a[r * n + p] = np;
          a[p * n + r] = np;
          a[r * n + q] = nq;
          a[q * n + r] = nq;
        }
        for (int r = 0; r < n; ++r) {
          const T g = v[r * n + p], hh = v[r * n + q];
          v[r * n + p] = c * g - s * hh;
          v[r * n + q] = s * g + c * hh;
        }
      }
    }
    if (!rotated) return sweep;
  }
  return -1;
}

// Eigen-decomposition M = V diag(w) V^T of the symmetric positive definite M in binary128.
// A Jacobi run from scratch in binary128 takes ~15 sweeps at n = 20, so it is preconditioned:
// a float64 Jacobi (hardware arithmetic) gives approximate eigenvectors V0, which are
// re-orthonormalised in binary128 (Q), and the binary128 Jacobi then polishes A1 = Q^T M Q
// (an exact similarity up to binary128 rounding, nearly diagonal) in 2-4 sweeps.
// Q's columns are graded like the true eigenvectors, so forming A1 keeps the relative accuracy
// (checked against 50+ digit mpmath by scripts/basis_accuracy.py). If the float64 stage fails
// (range, no convergence) the binary128 Jacobi simply starts from Q = I.
// Returns false if Jacobi did not converge.
bool eigenQuad(const std::vector<Quad>& M, int n, std::vector<Quad>& w, std::vector<Quad>& V) {
  const size_t nn = static_cast<size_t>(n) * n;
  V.assign(nn, Quad(0));
  // float64 preconditioner, on M scaled so that its largest entry is 1.
  Quad mmax = 0;
  for (size_t i = 0; i < nn; ++i) mmax = qabs(M[i]) > mmax ? qabs(M[i]) : mmax;
  std::vector<double> Ad(nn), Vd(nn, 0.0);
  bool usable = mmax > 0;
  for (size_t i = 0; i < nn && usable; ++i) {
    Ad[i] = static_cast<double>(M[i] / mmax);
    usable = std::isfinite(Ad[i]);
  }
  for (int i = 0; i < n; ++i) Vd[static_cast<size_t>(i) * n + i] = 1.0;
  if (usable) usable = jacobiEigen<double>(Ad, Vd, n, 0x1p-52) >= 0;
  if (usable) {
    // Q = modified Gram-Schmidt of V0's columns, in binary128.
    for (size_t i = 0; i < nn; ++i) V[i] = static_cast<Quad>(Vd[i]);
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < j; ++i) {
        Quad d = 0;
        for (int r = 0; r < n; ++r) d += V[static_cast<size_t>(r) * n + i] * V[static_cast<size_t>(r) * n + j];
        for (int r = 0; r < n; ++r) V[static_cast<size_t>(r) * n + j] -= d * V[static_cast<size_t>(r) * n + i];
      }
      Quad d = 0;
      for (int r = 0; r < n; ++r) d += V[static_cast<size_t>(r) * n + j] * V[static_cast<size_t>(r) * n + j];
      const Quad inv = 1 / qsqrt(d);
      for (int r = 0; r < n; ++r) V[static_cast<size_t>(r) * n + j] *= inv;
    }
  } else {
    for (int i = 0; i < n; ++i) V[static_cast<size_t>(i) * n + i] = 1;
  }
  // A1 = Q^T M Q (symmetric; upper triangle computed, mirrored).
  std::vector<Quad> MQ(nn), A(nn);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      Quad s = 0;
      for (int k = 0; k < n; ++k) s += M[static_cast<size_t>(r) * n + k] * V[static_cast<size_t>(k) * n + c];
      MQ[static_cast<size_t>(r) * n + c] = s;
    }
  for (int r = 0; r < n; ++r)
    for (int c = r; c < n; ++c) {
      Quad s = 0;
      for (int k = 0; k < n; ++k) s += V[static_cast<size_t>(k) * n + r] * MQ[static_cast<size_t>(k) * n + c];
      A[static_cast<size_t>(r) * n + c] = s;
      A[static_cast<size_t>(c) * n + r] = s;
    }
  if (jacobiEigen<Quad>(A, V, n, quadEpsilon()) < 0) return false;
  w.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) w[static_cast<size_t>(i)] = A[static_cast<size_t>(i) * n + i];
  return true;
}

// Upper bound (within a factor n^2) of the condition number of the unit-diagonal matrix
// C = D^-1/2 M D^-1/2: n * ||L^-1||_F^2 with C = L L^T. Returns +inf when C is not positive
// definite to working precision (Cholesky breaks down).
Quad scaledConditionEstimate(const std::vector<Quad>& M, int n) {
  std::vector<Quad> d(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const Quad mii = M[static_cast<size_t>(i) * n + i];
    if (!(mii > 0)) return static_cast<Quad>(HUGE_VAL);
    d[static_cast<size_t>(i)] = 1 / qsqrt(mii);
  }
  std::vector<Quad> L(static_cast<size_t>(n) * n, Quad(0));
  auto l = [&](int r, int c) -> Quad& { return L[static_cast<size_t>(r) * n + c]; };
  for (int j = 0; j < n; ++j) {
    for (int i = j; i < n; ++i) {
      Quad s = M[static_cast<size_t>(i) * n + j] * d[static_cast<size_t>(i)] * d[static_cast<size_t>(j)];
      for (int k = 0; k < j; ++k) s -= l(i, k) * l(j, k);
      if (i == j) {
        if (!(s > 0)) return static_cast<Quad>(HUGE_VAL);
        l(j, j) = qsqrt(s);
      } else {
        l(i, j) = s / l(j, j);
      }
    }
  }
  // X = L^-1 (lower triangular), column by column by forward substitution.
  Quad frob2 = 0;
  std::vector<Quad> x(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    for (int i = 0; i < n; ++i) {
      if (i < c) {
        x[static_cast<size_t>(i)] = 0;
        continue;
      }
      Quad s = (i == c) ? Quad(1) : Quad(0);
      for (int k = c; k < i; ++k) s -= l(i, k) * x[static_cast<size_t>(k)];
      x[static_cast<size_t>(i)] = s / l(i, i);
      frob2 += x[static_cast<size_t>(i)] * x[static_cast<size_t>(i)];
    }
  }
  return frob2 * n;
}

// Largest accepted estimate of cond(D^-1/2 S D^-1/2). Jacobi in binary128 keeps ~eps*cond
// relative accuracy (eps ~ 1.9e-34), so 1e24 still gives betas good to ~1e-10; every parameter
// set DScribe 2.1.1 accepts (its sqrtm turns complex beyond cond ~1e17) lies far below this.
constexpr double kMaxScaledCondition = 1e24;

[[noreturn]] void throwSingular(int l, double rCut, int nMax, const std::string& detail) {
  std::ostringstream o;
  o << "the GTO overlap matrix for l=" << l << " is singular to working precision (" << detail << ") with nMax=" << nMax
    << " and rCut=" << fmtDouble(rCut)
    << ": the radial basis functions are nearly linearly dependent; lower nMax or raise rCut";
  throw InvalidArgument(o.str());
}

}  // namespace

GtoBasis makeGtoBasis(double rCut, int nMax, int lMax) {
  if (!std::isfinite(rCut) || !(rCut > 1))
    throw InvalidArgument("rCut must be a finite number > 1 with the GTO radial basis, got " + fmtDouble(rCut));
  if (nMax < 1 || nMax > kMaxNMax)
    throw InvalidArgument("nMax must be an integer in [1, " + std::to_string(kMaxNMax) + "], got " +
                          std::to_string(nMax));
  if (lMax < 0 || lMax > kMaxLMaxGto)
    throw InvalidArgument("lMax must be an integer in [0, " + std::to_string(kMaxLMaxGto) +
                          "] with the GTO radial basis, got " + std::to_string(lMax));

  const int n = nMax;
  const size_t nn = static_cast<size_t>(n) * n;
  GtoBasis b;
  b.nMax = nMax;
  b.lMax = lMax;
  b.alphas.resize(static_cast<size_t>(lMax + 1) * n);
  b.betas.resize(static_cast<size_t>(lMax + 1) * nn);

  const std::vector<double> a = numpyLinspace(1.0, rCut, n);
  std::vector<Quad> M(nn), V;
  std::vector<Quad> w(static_cast<size_t>(n));
  for (int l = 0; l <= lMax; ++l) {
    double* al = &b.alphas[static_cast<size_t>(l) * n];
    for (int k = 0; k < n; ++k) {
      al[k] = numpyAlpha(a[static_cast<size_t>(k)], l);
      if (!std::isfinite(al[k]) || !(al[k] > 0))
        throw InvalidArgument("GTO exponent alpha[l=" + std::to_string(l) + "][" + std::to_string(k) +
                              "] = " + fmtDouble(al[k]) + " is not a positive finite number: rCut=" + fmtDouble(rCut) +
                              " is too large for lMax=" + std::to_string(lMax) +
                              " in float64 (nMax=" + std::to_string(nMax) + ")");
    }
    // M_kk' = (alpha_k + alpha_k')^-(l+3/2) = 1 / ((alpha_k+alpha_k')^(l+1) sqrt(alpha_k+alpha_k')).
    // The sum of two positive doubles of similar size is exact in binary128. The constant
    // 0.5 Gamma(l+3/2) is applied at the end: S^-1/2 = (c M)^-1/2 = c^-1/2 M^-1/2.
    for (int i = 0; i < n; ++i) {
      for (int j = i; j < n; ++j) {
        const Quad m = static_cast<Quad>(al[i]) + static_cast<Quad>(al[j]);
        const Quad v = 1 / (qpowi(m, l + 1) * qsqrt(m));
        M[static_cast<size_t>(i) * n + j] = v;
        M[static_cast<size_t>(j) * n + i] = v;
      }
    }
    const Quad kappa = scaledConditionEstimate(M, n);
    if (!(kappa <= static_cast<Quad>(kMaxScaledCondition))) {
      std::ostringstream d;
      if (kappa < static_cast<Quad>(HUGE_VAL)) d << "scaled condition number ~" << static_cast<double>(kappa);
      else d << "not positive definite";
      throwSingular(l, rCut, nMax, d.str());
    }
    if (!eigenQuad(M, n, w, V)) throwSingular(l, rCut, nMax, "the Jacobi eigensolver did not converge");
    for (int i = 0; i < n; ++i) {
      const Quad wi = w[static_cast<size_t>(i)];
      if (!(wi > 0)) throwSingular(l, rCut, nMax, "an eigenvalue is not positive");
      w[static_cast<size_t>(i)] = 1 / qsqrt(wi);  // now w^-1/2
    }
    const Quad scale = 1 / qsqrt(halfGammaLPlus3Half(l));
    double* be = &b.betas[static_cast<size_t>(l) * nn];
    for (int r = 0; r < n; ++r) {
      for (int c = r; c < n; ++c) {
        Quad s = 0;
        for (int i = 0; i < n; ++i)
          s += V[static_cast<size_t>(r) * n + i] * V[static_cast<size_t>(c) * n + i] * w[static_cast<size_t>(i)];
        const double v = static_cast<double>(s * scale);
        be[static_cast<size_t>(r) * n + c] = v;
        be[static_cast<size_t>(c) * n + r] = v;
      }
    }
  }
  checkGtoBasis(b, nMax, lMax);
  return b;
}

void checkGtoBasis(const GtoBasis& b, int nMax, int lMax) {
  if (nMax < 1 || lMax < 0)
    throw InvalidArgument("GTO basis: nMax must be >= 1 and lMax >= 0, got nMax=" + std::to_string(nMax) +
                          ", lMax=" + std::to_string(lMax));
  if (b.nMax != nMax || b.lMax != lMax)
    throw InvalidArgument("GTO basis was built for nMax=" + std::to_string(b.nMax) +
                          ", lMax=" + std::to_string(b.lMax) + " but nMax=" + std::to_string(nMax) +
                          ", lMax=" + std::to_string(lMax) + " is required");
  const size_t L = static_cast<size_t>(lMax) + 1, n = static_cast<size_t>(nMax);
  if (b.alphas.size() != L * n)
    throw InvalidArgument("GTO basis: alphas must hold (lMax+1)*nMax = " + std::to_string(L * n) + " values, got " +
                          std::to_string(b.alphas.size()));
  if (b.betas.size() != L * n * n)
    throw InvalidArgument("GTO basis: betas must hold (lMax+1)*nMax*nMax = " + std::to_string(L * n * n) +
                          " values, got " + std::to_string(b.betas.size()));
  for (size_t i = 0; i < b.alphas.size(); ++i)
    if (!std::isfinite(b.alphas[i]) || !(b.alphas[i] > 0))
      throw InvalidArgument("GTO basis: alpha[l=" + std::to_string(i / n) + "][" + std::to_string(i % n) +
                            "] = " + fmtDouble(b.alphas[i]) + " is not a positive finite number");
  for (size_t i = 0; i < b.betas.size(); ++i)
    if (!std::isfinite(b.betas[i]))
      throw InvalidArgument("GTO basis: beta[l=" + std::to_string(i / (n * n)) + "][" + std::to_string((i / n) % n) +
                            "][" + std::to_string(i % n) + "] is not finite (" + fmtDouble(b.betas[i]) + ")");
}

}  // namespace soapix
