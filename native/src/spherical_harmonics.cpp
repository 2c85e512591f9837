#include "spherical_harmonics.h"

#include <cmath>
#include <utility>

#include "simd.h"

#include <immintrin.h>

namespace soapix {

// Real solid harmonics are built as  r^l Y_lm = Pbar_l^m(z, r^2) * Re/Im (x + i y)^m, where Pbar is
// the normalised polynomial part. Folding the normalisation into the recursion keeps every
// intermediate value of order one, so no large factorials appear even at l = 20.
SolidHarmonics::SolidHarmonics(int lMax) : lMax_(lMax) {
  const int L = lMax + 1;
  start_.assign(L, 0.0);
  next_.assign(L, 0.0);
  a_.assign(L * L, 0.0);
  b_.assign(L * L, 0.0);
  const long double fourPi = 4.0L * 3.141592653589793238462643383279502884L;
  long double dfOverSqrtFact = 1.0L;  // (2m-1)!! / sqrt((2m)!)
  for (int m = 0; m <= lMax; ++m) {
    if (m > 0) dfOverSqrtFact *= std::sqrt((2.0L * m - 1.0L) / (2.0L * m));
    const long double cm = m > 0 ? std::sqrt(2.0L) : 1.0L;
    start_[m] = static_cast<double>(cm * std::sqrt((2.0L * m + 1.0L) / fourPi) * dfOverSqrtFact);
    next_[m] = static_cast<double>(std::sqrt(2.0L * m + 3.0L));
    for (int l = m + 2; l <= lMax; ++l) {
      const long double lm = l - m, lp = l + m;
      a_[l * L + m] = static_cast<double>((2.0L * l - 1.0L) / lm *
                                          std::sqrt((2.0L * l + 1.0L) / (2.0L * l - 1.0L) * lm / lp));
      b_[l * L + m] = static_cast<double>((lp - 1.0L) / lm *
                                          std::sqrt((2.0L * l + 1.0L) / (2.0L * l - 3.0L) * lm * (lm - 1.0L) /
                                                    (lp * (lp - 1.0L))));
    }
  }
}

namespace {

struct Coefficients {
  int lMax;
  const double *start, *next, *a, *b;
};

// The recursion, written once and compiled for several instruction sets below.
SOAPIX_INLINE void solidHarmonicsImpl(const Coefficients& k, const double* x, const double* y, const double* z,
                                      const double* r2, int count, int stride, double* out, double* scratch) {
  const int lMax_ = k.lMax;
  const int L = lMax_ + 1;
  const double* start_ = k.start;
  const double* next_ = k.next;
  const double* a_ = k.a;
  const double* b_ = k.b;
  double* cosm = scratch;               // Re (x + i y)^m
  double* sinm = scratch + stride;      // Im (x + i y)^m
  double* prev2 = scratch + 2 * stride; // Pbar_{l-2}^m
  double* prev1 = scratch + 3 * stride; // Pbar_{l-1}^m
  for (int m = 0; m <= lMax_; ++m) {
    if (m == 0) {
#pragma omp simd
      for (int j = 0; j < count; ++j) {
        cosm[j] = 1.0;
        sinm[j] = 0.0;
      }
    } else {
#pragma omp simd
      for (int j = 0; j < count; ++j) {
        const double c = cosm[j], s = sinm[j];
        cosm[j] = x[j] * c - y[j] * s;
        sinm[j] = x[j] * s + y[j] * c;
      }
    }
    double* p2 = prev2;
    double* p1 = prev1;
    for (int l = m; l <= lMax_; ++l) {
      // p2 <- Pbar_l^m (overwriting Pbar_{l-2}^m), then rotate.
      if (l == m) {
        const double s = start_[m];
#pragma omp simd
        for (int j = 0; j < count; ++j) p2[j] = s;
      } else if (l == m + 1) {
        const double c = next_[m];
#pragma omp simd
        for (int j = 0; j < count; ++j) p2[j] = c * z[j] * p1[j];
      } else {
        const double a = a_[l * L + m], b = b_[l * L + m];
#pragma omp simd
        for (int j = 0; j < count; ++j) p2[j] = a * z[j] * p1[j] - b * r2[j] * p2[j];
      }
      std::swap(p1, p2);  // p1 now holds Pbar_l^m
      const int base = l * l + l;
      if (m == 0) {
        double* o = out + static_cast<long>(base) * stride;
#pragma omp simd
        for (int j = 0; j < count; ++j) o[j] = p1[j];
      } else {
        double* oc = out + static_cast<long>(base + m) * stride;
        double* os = out + static_cast<long>(base - m) * stride;
#pragma omp simd
        for (int j = 0; j < count; ++j) {
          oc[j] = p1[j] * cosm[j];
          os[j] = p1[j] * sinm[j];
        }
      }
    }
  }
}

// Register-resident variant: all (lMax+1)^2 harmonics of a few points at a time, with the
// recursions kept in registers, so each value costs a few FMAs and one store.
struct ScalarOps {
  using T = double;
  static constexpr int W = 1;
  static T load(const double* p) { return *p; }
  static void store(double* p, T v) { *p = v; }
  static T set1(double v) { return v; }
  static T mul(T a, T b) { return a * b; }
  static T fmadd(T a, T b, T c) { return a * b + c; }
  static T fmsub(T a, T b, T c) { return a * b - c; }
};
struct Avx2Ops {
  using T = __m256d;
  static constexpr int W = 4;
  SOAPIX_TARGET_AVX2 static T load(const double* p) { return _mm256_loadu_pd(p); }
  SOAPIX_TARGET_AVX2 static void store(double* p, T v) { _mm256_storeu_pd(p, v); }
  SOAPIX_TARGET_AVX2 static T set1(double v) { return _mm256_set1_pd(v); }
  SOAPIX_TARGET_AVX2 static T mul(T a, T b) { return _mm256_mul_pd(a, b); }
  SOAPIX_TARGET_AVX2 static T fmadd(T a, T b, T c) { return _mm256_fmadd_pd(a, b, c); }
  SOAPIX_TARGET_AVX2 static T fmsub(T a, T b, T c) { return _mm256_fmsub_pd(a, b, c); }
};

// C independent groups of Ops::W points advance together: the l-recursion is a serial chain of
// dependent multiplies, and interleaving several groups hides its latency.
template <class Ops, int C>
SOAPIX_INLINE void harmonicsChunk(const Coefficients& k, const double* x, const double* y, const double* z,
                                  const double* r2, long stride, double* __restrict out) {
  using T = typename Ops::T;
  constexpr int W = Ops::W;
  const int lMax = k.lMax, L = lMax + 1;
  const double* __restrict start = k.start;
  const double* __restrict nextC = k.next;
  const double* __restrict aC = k.a;
  const double* __restrict bC = k.b;
  T X[C], Yv[C], Z[C], R2[C], c[C], s[C], p[C], pPrev[C];
#pragma GCC unroll 4
  for (int q = 0; q < C; ++q) {
    X[q] = Ops::load(x + q * W);
    Yv[q] = Ops::load(y + q * W);
    Z[q] = Ops::load(z + q * W);
    R2[q] = Ops::load(r2 + q * W);
    c[q] = Ops::set1(1.0);
    s[q] = Ops::set1(0.0);
  }
  for (int m = 0; m <= lMax; ++m) {
    if (m > 0) {
#pragma GCC unroll 4
      for (int q = 0; q < C; ++q) {
        const T c2 = Ops::fmsub(X[q], c[q], Ops::mul(Yv[q], s[q]));
        s[q] = Ops::fmadd(X[q], s[q], Ops::mul(Yv[q], c[q]));
        c[q] = c2;
      }
    }
    const T st = Ops::set1(start[m]);
#pragma GCC unroll 4
    for (int q = 0; q < C; ++q) {
      pPrev[q] = Ops::set1(0.0);
      p[q] = st;
    }
    for (int l = m; l <= lMax; ++l) {
      if (l == m + 1) {
        const T nx = Ops::set1(nextC[m]);
#pragma GCC unroll 4
        for (int q = 0; q < C; ++q) {
          const T nv = Ops::mul(Ops::mul(nx, Z[q]), p[q]);
          pPrev[q] = p[q];
          p[q] = nv;
        }
      } else if (l > m + 1) {
        const T av = Ops::set1(aC[l * L + m]), bv = Ops::set1(bC[l * L + m]);
#pragma GCC unroll 4
        for (int q = 0; q < C; ++q) {
          const T nv = Ops::fmsub(Ops::mul(av, Z[q]), p[q], Ops::mul(Ops::mul(bv, R2[q]), pPrev[q]));
          pPrev[q] = p[q];
          p[q] = nv;
        }
      }
      const long base = l * l + l;
#pragma GCC unroll 4
      for (int q = 0; q < C; ++q) {
        if (m == 0) {
          Ops::store(out + base * stride + q * W, p[q]);
        } else {
          Ops::store(out + (base + m) * stride + q * W, Ops::mul(p[q], c[q]));
          Ops::store(out + (base - m) * stride + q * W, Ops::mul(p[q], s[q]));
        }
      }
    }
  }
}

SOAPIX_TARGET_AVX2 void harmonicsChunksAvx2(const Coefficients& k, const double* x, const double* y, const double* z,
                                            const double* r2, int count, int stride, double* out) {
  int j = 0;
  for (; j + 8 <= count; j += 8) harmonicsChunk<Avx2Ops, 2>(k, x + j, y + j, z + j, r2 + j, stride, out + j);
  for (; j + 4 <= count; j += 4) harmonicsChunk<Avx2Ops, 1>(k, x + j, y + j, z + j, r2 + j, stride, out + j);
  for (; j < count; ++j) harmonicsChunk<ScalarOps, 1>(k, x + j, y + j, z + j, r2 + j, stride, out + j);
}

using HarmonicsFn = void (*)(const Coefficients&, const double*, const double*, const double*, const double*, int,
                             int, double*, double*);
void harmonicsRegisters(const Coefficients& k, const double* x, const double* y, const double* z, const double* r2,
                        int count, int stride, double* out, double*) {
  harmonicsChunksAvx2(k, x, y, z, r2, count, stride, out);
}
void harmonicsBaseline(const Coefficients& k, const double* x, const double* y, const double* z, const double* r2,
                       int count, int stride, double* out, double* scratch) {
  solidHarmonicsImpl(k, x, y, z, r2, count, stride, out, scratch);
}
const HarmonicsFn kHarmonics = cpuHasAvx2() ? harmonicsRegisters : harmonicsBaseline;

}  // namespace

void SolidHarmonics::compute(const double* x, const double* y, const double* z, const double* r2, int count,
                             int stride, double* out, double* scratch) const {
  const Coefficients k{lMax_, start_.data(), next_.data(), a_.data(), b_.data()};
  kHarmonics(k, x, y, z, r2, count, stride, out, scratch);
}

}  // namespace soapix
