// One block of the power spectrum when nMax <= 8 (one 8-lane row of coefficients per lm), for
// every l in one pass:
//   out[l][n][n'] = pref[l] * sum_m c1[l*l + m][n] c2[l*l + m][n']    (n' >= n when `triangle`)
// The rows c2[lm][0..7] are whole vectors (GCC vector extensions: one zmm or two ymm for float64,
// one ymm for float32) and the N accumulators stay in registers across m, so the small products
// cost their FMAs and little else; compiled per instruction set and chosen at run time. The sums
// run over m in the same order as the general kernel (contraction.h), one FMA per term.
#include "power_spectrum_n8.h"

#include "simd.h"

namespace soapix {
namespace {

typedef double Vec8d __attribute__((vector_size(64)));
typedef float Vec8f __attribute__((vector_size(32)));
template <class T>
struct Vec8;
template <>
struct Vec8<double> {
  using type = Vec8d;
};
template <>
struct Vec8<float> {
  using type = Vec8f;
};

template <class T, int N>
SOAPIX_INLINE T* blockN(int lMax, const double* pref, const T* c1, const T* c2, bool triangle, T* out) {
  using V = typename Vec8<T>::type;
  for (int l = 0; l <= lMax; ++l) {
    V acc[N];
#pragma GCC unroll 8
    for (int n = 0; n < N; ++n) acc[n] = V{};
    for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
      V row;
      __builtin_memcpy(&row, c2 + lm * 8, sizeof row);
      const T* a = c1 + lm * 8;
#pragma GCC unroll 8
      for (int n = 0; n < N; ++n) acc[n] += a[n] * row;
    }
    const V f = V{} + static_cast<T>(pref[l]);
    alignas(64) T p[N][8];
#pragma GCC unroll 8
    for (int n = 0; n < N; ++n) {
      const V v = f * acc[n];
      __builtin_memcpy(p[n], &v, sizeof v);
    }
    for (int n = 0; n < N; ++n) {
      const int first = triangle ? n : 0;
      for (int np = first; np < N; ++np) out[np - first] = p[n][np];
      out += N - first;
    }
  }
  return out;
}

template <class T>
SOAPIX_INLINE T* blockDispatch(int nMax, int lMax, const double* pref, const T* c1, const T* c2, bool triangle, T* out) {
  switch (nMax) {
    case 1: return blockN<T, 1>(lMax, pref, c1, c2, triangle, out);
    case 2: return blockN<T, 2>(lMax, pref, c1, c2, triangle, out);
    case 3: return blockN<T, 3>(lMax, pref, c1, c2, triangle, out);
    case 4: return blockN<T, 4>(lMax, pref, c1, c2, triangle, out);
    case 5: return blockN<T, 5>(lMax, pref, c1, c2, triangle, out);
    case 6: return blockN<T, 6>(lMax, pref, c1, c2, triangle, out);
    case 7: return blockN<T, 7>(lMax, pref, c1, c2, triangle, out);
    default: return blockN<T, 8>(lMax, pref, c1, c2, triangle, out);
  }
}

template <class T>
using BlockFn = T* (*)(int, int, const double*, const T*, const T*, bool, T*);

#if defined(__x86_64__) && defined(__GNUC__)
template <class T>
SOAPIX_TARGET_AVX512 T* blockAvx512(int nMax, int lMax, const double* pref, const T* c1, const T* c2, bool triangle,
                                    T* out) {
  return blockDispatch<T>(nMax, lMax, pref, c1, c2, triangle, out);
}
template <class T>
SOAPIX_TARGET_AVX2 T* blockAvx2(int nMax, int lMax, const double* pref, const T* c1, const T* c2, bool triangle,
                                T* out) {
  return blockDispatch<T>(nMax, lMax, pref, c1, c2, triangle, out);
}
#endif
template <class T>
T* blockBaseline(int nMax, int lMax, const double* pref, const T* c1, const T* c2, bool triangle, T* out) {
  return blockDispatch<T>(nMax, lMax, pref, c1, c2, triangle, out);
}

template <class T>
BlockFn<T> pick() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (cpuHasAvx512()) return blockAvx512<T>;
  if (cpuHasAvx2()) return blockAvx2<T>;
#endif
  return blockBaseline<T>;
}
const BlockFn<double> kBlock64 = pick<double>();
const BlockFn<float> kBlock32 = pick<float>();

}  // namespace

double* powerBlockN8(int nMax, int lMax, const double* pref, const double* c1, const double* c2, bool triangle,
                     double* out) {
  return kBlock64(nMax, lMax, pref, c1, c2, triangle, out);
}
float* powerBlockN8(int nMax, int lMax, const double* pref, const float* c1, const float* c2, bool triangle,
                    float* out) {
  return kBlock32(nMax, lMax, pref, c1, c2, triangle, out);
}

}  // namespace soapix
