// One block of the power spectrum when nMax <= 8 (one 8-lane row of coefficients per lm), for
// every l in one pass:
//   out[l][n][n'] = pref[l] * sum_m c1[l*l + m][n] c2[l*l + m][n']    (n' >= n when `triangle`)
// The rows c2[lm][0..7] are whole vectors (GCC vector extensions: one zmm or two ymm for float64,
// one ymm for float32), one accumulator register per n, so the small products cost their FMAs and
// little else; compiled for AVX2 and AVX-512 and chosen at run time where a row is one register.
// Each sum runs over m in order, one FMA per term.
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
  alignas(64) T p[N][8];
  for (int l = 0; l <= lMax; ++l) {
    const V f = V{} + static_cast<T>(pref[l]);
    // One accumulator per n (independent chains over m; the rows come from L1 again for each n).
#pragma GCC unroll 8
    for (int n = 0; n < N; ++n) {
      V acc = V{};
      for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
        V row;
        __builtin_memcpy(&row, c2 + lm * 8, sizeof row);
        acc += c1[lm * 8 + n] * row;
      }
      acc *= f;
      __builtin_memcpy(p[n], &acc, sizeof acc);
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
SOAPIX_INLINE T* blockDispatch(int nMax, int lMax, const double* pref, const T* c1, const T* c2, bool triangle,
                               T* out) {
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

// Only where the 8-lane row is one register (float32 on AVX2 and AVX-512, float64 on AVX-512): two
// or four registers per row make GCC spill the accumulators, and the general kernel is faster.
template <class T>
BlockFn<T> pick() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (cpuHasAvx512()) return blockAvx512<T>;
  if (cpuHasAvx2() && sizeof(T) == 4) return blockAvx2<T>;
#endif
  return nullptr;
}
const BlockFn<double> kBlock64 = pick<double>();
const BlockFn<float> kBlock32 = pick<float>();

}  // namespace

double* powerBlockN8(int nMax, int lMax, const double* pref, const double* c1, const double* c2, bool triangle,
                     double* out) {
  return kBlock64 ? kBlock64(nMax, lMax, pref, c1, c2, triangle, out) : nullptr;
}
float* powerBlockN8(int nMax, int lMax, const double* pref, const float* c1, const float* c2, bool triangle,
                    float* out) {
  return kBlock32 ? kBlock32(nMax, lMax, pref, c1, c2, triangle, out) : nullptr;
}

}  // namespace soapix
