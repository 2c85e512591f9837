// The solid-harmonics recursion of spherical_harmonics.cpp, written once for float64 and float32
// and compiled for several instruction sets (spherical_harmonics.cpp, spherical_harmonics_f32.cpp):
//   r^l Y_lm = Pbar_l^m(z, r^2) * Re/Im (x + i y)^m,
//   Pbar_m^m = start[m],  Pbar_{m+1}^m = next[m] z Pbar_m^m,
//   Pbar_l^m = a[l][m] z Pbar_{l-1}^m - b[l][m] r^2 Pbar_{l-2}^m.
// The coefficients are float64 (built in extended precision); a float32 path rounds them once.
#pragma once
#include <utility>

#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace soapix {

struct HarmonicsCoefficients {
  int lMax;
  const double *start, *next, *a, *b;
};

// Array form: each step of the recursion runs over all points (portable; the compiler vectorises
// the loops). scratch: 4 * stride values.
template <class T>
SOAPIX_INLINE void harmonicsArrays(const HarmonicsCoefficients& k, const T* x, const T* y, const T* z, const T* r2,
                                   int count, int stride, T* out, T* scratch) {
  const int lMax = k.lMax, L = lMax + 1;
  T* cosm = scratch;                // Re (x + i y)^m
  T* sinm = scratch + stride;       // Im (x + i y)^m
  T* prev2 = scratch + 2 * stride;  // Pbar_{l-2}^m
  T* prev1 = scratch + 3 * stride;  // Pbar_{l-1}^m
  for (int m = 0; m <= lMax; ++m) {
    if (m == 0) {
#pragma omp simd
      for (int j = 0; j < count; ++j) {
        cosm[j] = 1;
        sinm[j] = 0;
      }
    } else {
#pragma omp simd
      for (int j = 0; j < count; ++j) {
        const T c = cosm[j], s = sinm[j];
        cosm[j] = x[j] * c - y[j] * s;
        sinm[j] = x[j] * s + y[j] * c;
      }
    }
    T* p2 = prev2;
    T* p1 = prev1;
    for (int l = m; l <= lMax; ++l) {
      // p2 <- Pbar_l^m (overwriting Pbar_{l-2}^m), then rotate.
      if (l == m) {
        const T s = static_cast<T>(k.start[m]);
#pragma omp simd
        for (int j = 0; j < count; ++j) p2[j] = s;
      } else if (l == m + 1) {
        const T c = static_cast<T>(k.next[m]);
#pragma omp simd
        for (int j = 0; j < count; ++j) p2[j] = c * z[j] * p1[j];
      } else {
        const T a = static_cast<T>(k.a[l * L + m]), b = static_cast<T>(k.b[l * L + m]);
#pragma omp simd
        for (int j = 0; j < count; ++j) p2[j] = a * z[j] * p1[j] - b * r2[j] * p2[j];
      }
      std::swap(p1, p2);  // p1 now holds Pbar_l^m
      const int base = l * l + l;
      if (m == 0) {
        T* o = out + static_cast<long>(base) * stride;
#pragma omp simd
        for (int j = 0; j < count; ++j) o[j] = p1[j];
      } else {
        T* oc = out + static_cast<long>(base + m) * stride;
        T* os = out + static_cast<long>(base - m) * stride;
#pragma omp simd
        for (int j = 0; j < count; ++j) {
          oc[j] = p1[j] * cosm[j];
          os[j] = p1[j] * sinm[j];
        }
      }
    }
  }
}

// Register form: all (lMax+1)^2 harmonics of C groups of Ops::W points, the recursions kept in
// registers, so each value costs a few FMAs and one store. The C groups advance together: the
// l-recursion is a serial chain of dependent multiplies, and interleaving hides its latency.
// Unit: the points are unit vectors, r^2 = 1 is not read (one multiply less per value).
template <class Ops, int C, bool Unit = false>
SOAPIX_INLINE void harmonicsChunk(const HarmonicsCoefficients& k, const typename Ops::S* x, const typename Ops::S* y,
                                  const typename Ops::S* z, const typename Ops::S* r2, long stride,
                                  typename Ops::S* __restrict out) {
  using T = typename Ops::T;
  constexpr int W = Ops::W;
  const int lMax = k.lMax, L = lMax + 1;
  T X[C], Yv[C], Z[C], R2[C], c[C], s[C], p[C], pPrev[C];
#pragma GCC unroll 4
  for (int q = 0; q < C; ++q) {
    X[q] = Ops::load(x + q * W);
    Yv[q] = Ops::load(y + q * W);
    Z[q] = Ops::load(z + q * W);
    R2[q] = Unit ? Ops::set1(1.0) : Ops::load(r2 + q * W);
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
    const T st = Ops::set1(k.start[m]);
#pragma GCC unroll 4
    for (int q = 0; q < C; ++q) {
      pPrev[q] = Ops::set1(0.0);
      p[q] = st;
    }
    for (int l = m; l <= lMax; ++l) {
      if (l == m + 1) {
        const T nx = Ops::set1(k.next[m]);
#pragma GCC unroll 4
        for (int q = 0; q < C; ++q) {
          const T nv = Ops::mul(Ops::mul(nx, Z[q]), p[q]);
          pPrev[q] = p[q];
          p[q] = nv;
        }
      } else if (l > m + 1) {
        const T av = Ops::set1(k.a[l * L + m]), bv = Ops::set1(k.b[l * L + m]);
#pragma GCC unroll 4
        for (int q = 0; q < C; ++q) {
          const T nv = Ops::fmsub(Ops::mul(av, Z[q]), p[q],
                                  Unit ? Ops::mul(bv, pPrev[q]) : Ops::mul(Ops::mul(bv, R2[q]), pPrev[q]));
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

template <class Scalar>
struct ScalarOps {
  using S = Scalar;
  using T = Scalar;
  static constexpr int W = 1;
  static T load(const S* p) { return *p; }
  static void store(S* p, T v) { *p = v; }
  static T set1(double v) { return static_cast<T>(v); }
  static T mul(T a, T b) { return a * b; }
  static T fmadd(T a, T b, T c) { return a * b + c; }
  static T fmsub(T a, T b, T c) { return a * b - c; }
};

#if defined(__x86_64__) && defined(__GNUC__)
struct Avx2OpsD {
  using S = double;
  using T = __m256d;
  static constexpr int W = 4;
  SOAPIX_TARGET_AVX2 static T load(const S* p) { return _mm256_loadu_pd(p); }
  SOAPIX_TARGET_AVX2 static void store(S* p, T v) { _mm256_storeu_pd(p, v); }
  SOAPIX_TARGET_AVX2 static T set1(double v) { return _mm256_set1_pd(v); }
  SOAPIX_TARGET_AVX2 static T mul(T a, T b) { return _mm256_mul_pd(a, b); }
  SOAPIX_TARGET_AVX2 static T fmadd(T a, T b, T c) { return _mm256_fmadd_pd(a, b, c); }
  SOAPIX_TARGET_AVX2 static T fmsub(T a, T b, T c) { return _mm256_fmsub_pd(a, b, c); }
};
struct Avx512OpsD {
  using S = double;
  using T = __m512d;
  static constexpr int W = 8;
  SOAPIX_TARGET_AVX512 static T load(const S* p) { return _mm512_loadu_pd(p); }
  SOAPIX_TARGET_AVX512 static void store(S* p, T v) { _mm512_storeu_pd(p, v); }
  SOAPIX_TARGET_AVX512 static T set1(double v) { return _mm512_set1_pd(v); }
  SOAPIX_TARGET_AVX512 static T mul(T a, T b) { return _mm512_mul_pd(a, b); }
  SOAPIX_TARGET_AVX512 static T fmadd(T a, T b, T c) { return _mm512_fmadd_pd(a, b, c); }
  SOAPIX_TARGET_AVX512 static T fmsub(T a, T b, T c) { return _mm512_fmsub_pd(a, b, c); }
};
struct Avx2OpsF {
  using S = float;
  using T = __m256;
  static constexpr int W = 8;
  SOAPIX_TARGET_AVX2 static T load(const S* p) { return _mm256_loadu_ps(p); }
  SOAPIX_TARGET_AVX2 static void store(S* p, T v) { _mm256_storeu_ps(p, v); }
  SOAPIX_TARGET_AVX2 static T set1(double v) { return _mm256_set1_ps(static_cast<float>(v)); }
  SOAPIX_TARGET_AVX2 static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  SOAPIX_TARGET_AVX2 static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  SOAPIX_TARGET_AVX2 static T fmsub(T a, T b, T c) { return _mm256_fmsub_ps(a, b, c); }
};
struct Avx512OpsF {
  using S = float;
  using T = __m512;
  static constexpr int W = 16;
  SOAPIX_TARGET_AVX512 static T load(const S* p) { return _mm512_loadu_ps(p); }
  SOAPIX_TARGET_AVX512 static void store(S* p, T v) { _mm512_storeu_ps(p, v); }
  SOAPIX_TARGET_AVX512 static T set1(double v) { return _mm512_set1_ps(static_cast<float>(v)); }
  SOAPIX_TARGET_AVX512 static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  SOAPIX_TARGET_AVX512 static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  SOAPIX_TARGET_AVX512 static T fmsub(T a, T b, T c) { return _mm512_fmsub_ps(a, b, c); }
};
#endif

// Chunks of C * W points, then whole vectors of W points: the last one reads and writes up to W - 1
// points past `count` (callers pad their arrays to padVec(count), simd.h).
template <class Ops, int C, bool Unit = false>
SOAPIX_INLINE void harmonicsChunks(const HarmonicsCoefficients& k, const typename Ops::S* x, const typename Ops::S* y,
                                   const typename Ops::S* z, const typename Ops::S* r2, int count, int stride,
                                   typename Ops::S* out) {
  constexpr int W = Ops::W;
  static_assert(W <= kVecPad, "callers pad to kVecPad points");
  int j = 0;
  for (; j + C * W <= count; j += C * W)
    harmonicsChunk<Ops, C, Unit>(k, x + j, y + j, z + j, Unit ? r2 : r2 + j, stride, out + j);
  for (; j < count; j += W) harmonicsChunk<Ops, 1, Unit>(k, x + j, y + j, z + j, Unit ? r2 : r2 + j, stride, out + j);
}

}  // namespace soapix
