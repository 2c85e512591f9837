// One block of the power spectrum when nMax <= 8 (one 8-lane row of coefficients per lm), for
// every l in one pass:
//   out[l][n][n'] = pref[l] * sum_m c1[l*l + m][n] c2[l*l + m][n']    (n' >= n when `triangle`)
// The rows c2[lm][0..7] are whole vectors (GCC vector extensions: one zmm or two ymm for float64,
// one ymm for float32), one accumulator register per n, so the small products cost their FMAs and
// little else; float32 on AVX-512 pairs two n in one zmm instead (blockPairsF32). Compiled for
// AVX2 and AVX-512 and chosen at run time where a row is one register. Each sum runs over m in
// order, one FMA per term.
#include "power_spectrum_n8.h"

#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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
// float32 on AVX-512: a row of 8 floats is half a zmm register, so two n share one accumulator.
// The row c2[lm] is loaded once per lm with each lane doubled, (r0, r0, r1, r1, ..., r7, r7), and
// multiplied by the pair (c1[lm][n], c1[lm][n+1]) taken with one 64-bit broadcast: lane 2n' then
// sums for n and lane 2n'+1 for n + 1. Half the FMAs of the ymm form, the same terms in the same
// order per lane (so the same bits); one permute per l and pair puts the lanes back as p[n][n'].
template <int N>
SOAPIX_TARGET_AVX512 float* blockPairsF32(int lMax, const double* pref, const float* c1, const float* c2, bool triangle,
                                          float* out) {
  constexpr int P = (N + 1) / 2;
  const __m512i doubled = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  const __m512i evenOdd = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  alignas(64) float p[2 * P][8];
  for (int l = 0; l <= lMax; ++l) {
    __m512 acc[P];
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) acc[q] = _mm512_setzero_ps();
    for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
      const __m512 row = _mm512_permutexvar_ps(doubled, _mm512_castps256_ps512(_mm256_loadu_ps(c2 + lm * 8)));
#pragma GCC unroll 4
      for (int q = 0; q < P; ++q) {
        double pair;
        __builtin_memcpy(&pair, c1 + lm * 8 + 2 * q, sizeof pair);
        acc[q] = _mm512_fmadd_ps(_mm512_castpd_ps(_mm512_set1_pd(pair)), row, acc[q]);
      }
    }
    const __m512 f = _mm512_set1_ps(static_cast<float>(pref[l]));
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) _mm512_store_ps(p[2 * q], _mm512_permutexvar_ps(evenOdd, _mm512_mul_ps(acc[q], f)));
    for (int n = 0; n < N; ++n) {
      const int first = triangle ? n : 0;
      for (int np = first; np < N; ++np) out[np - first] = p[n][np];
      out += N - first;
    }
  }
  return out;
}

SOAPIX_TARGET_AVX512 float* blockPairsF32Dispatch(int nMax, int lMax, const double* pref, const float* c1,
                                                  const float* c2, bool triangle, float* out) {
  switch (nMax) {
    case 1: return blockPairsF32<1>(lMax, pref, c1, c2, triangle, out);
    case 2: return blockPairsF32<2>(lMax, pref, c1, c2, triangle, out);
    case 3: return blockPairsF32<3>(lMax, pref, c1, c2, triangle, out);
    case 4: return blockPairsF32<4>(lMax, pref, c1, c2, triangle, out);
    case 5: return blockPairsF32<5>(lMax, pref, c1, c2, triangle, out);
    case 6: return blockPairsF32<6>(lMax, pref, c1, c2, triangle, out);
    case 7: return blockPairsF32<7>(lMax, pref, c1, c2, triangle, out);
    default: return blockPairsF32<8>(lMax, pref, c1, c2, triangle, out);
  }
}

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
  if (cpuHasAvx512()) {
    if constexpr (sizeof(T) == 4) return blockPairsF32Dispatch;
    return blockAvx512<T>;
  }
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
