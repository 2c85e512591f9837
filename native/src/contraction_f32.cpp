// The register-blocked small matrix product in float32 (contraction.h):
//   R[m * NP + n] = sum_j row_j[n] * Y[m * ysm + j * ysj]     (m < M, n < NP)
// AVX2: 8 n per ymm register, up to 12 rows m per block. AVX-512: 16 n per zmm when NP is a
// multiple of 16; otherwise (NP = 8, e.g. nMax 7) two neighbours share one zmm register: lanes
// (2n, 2n+1) hold row_j[n] and row_{j+1}[n], multiplied by the pair (Y[m][j], Y[m][j+1]) loaded
// with one 64-bit broadcast, and the two lanes are added at the end. That keeps all 16 lanes busy
// when a row is only 8 floats long.
#include <cstring>

#include "contraction.h"
#include "contraction_blocks.h"
#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace soapix {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// 8 n x MB rows in ymm registers; MB <= 6 uses two accumulator sets (latency).
template <int MB, bool Ix>
SOAPIX_TARGET_AVX2 inline void blockYmm(const RowAt<float, Ix>& row, int off, const float* Y, long ysm, long ysj, int J,
                                        float* out, int outStride) {
  constexpr int U = MB <= 6 ? 2 : 1;
  __m256 acc[U][MB];
#pragma GCC unroll 24
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) acc[u][b] = _mm256_setzero_ps();
  int j = 0;
  for (; j + U <= J; j += U)
#pragma GCC unroll 24
    for (int u = 0; u < U; ++u) {
      const __m256 g = _mm256_loadu_ps(row(j + u) + off);
      const float* y = Y + (j + u) * ysj;
#pragma GCC unroll 24
      for (int b = 0; b < MB; ++b) acc[u][b] = _mm256_fmadd_ps(g, _mm256_broadcast_ss(y + b * ysm), acc[u][b]);
    }
  for (; j < J; ++j) {
    const __m256 g = _mm256_loadu_ps(row(j) + off);
    const float* y = Y + j * ysj;
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) acc[0][b] = _mm256_fmadd_ps(g, _mm256_broadcast_ss(y + b * ysm), acc[0][b]);
  }
#pragma GCC unroll 24
  for (int b = 0; b < MB; ++b) {
    if (U == 2) acc[0][b] = _mm256_add_ps(acc[0][b], acc[U - 1][b]);
    _mm256_storeu_ps(out + b * outStride, acc[0][b]);
  }
}

// 16 n x MB rows in zmm registers.
template <int MB, bool Ix>
SOAPIX_TARGET_AVX512 inline void blockZmm(const RowAt<float, Ix>& row, int off, const float* Y, long ysm, long ysj,
                                          int J, float* out, int outStride) {
  constexpr int U = MB <= 12 ? 2 : 1;
  __m512 acc[U][MB];
#pragma GCC unroll 24
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_setzero_ps();
  int j = 0;
  for (; j + U <= J; j += U)
#pragma GCC unroll 24
    for (int u = 0; u < U; ++u) {
      const __m512 g = _mm512_loadu_ps(row(j + u) + off);
      const float* y = Y + (j + u) * ysj;
#pragma GCC unroll 24
      for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_fmadd_ps(g, _mm512_set1_ps(y[b * ysm]), acc[u][b]);
    }
  for (; j < J; ++j) {
    const __m512 g = _mm512_loadu_ps(row(j) + off);
    const float* y = Y + j * ysj;
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) acc[0][b] = _mm512_fmadd_ps(g, _mm512_set1_ps(y[b * ysm]), acc[0][b]);
  }
#pragma GCC unroll 24
  for (int b = 0; b < MB; ++b) {
    if (U == 2) acc[0][b] = _mm512_add_ps(acc[0][b], acc[U - 1][b]);
    _mm512_storeu_ps(out + b * outStride, acc[0][b]);
  }
}

// Two neighbours per zmm register (8 n each, interleaved); needs ysj == 1.
template <int MB, bool Ix>
SOAPIX_TARGET_AVX512 inline void blockPairs(const RowAt<float, Ix>& row, int off, const float* Y, long ysm, long, int J,
                                            float* out, int outStride) {
  constexpr int U = MB <= 8 ? 2 : 1;
  const __m512i interleave = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  __m512 acc[U][MB];
#pragma GCC unroll 24
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_setzero_ps();
  int j = 0;
  for (; j + 2 * U <= J; j += 2 * U)
#pragma GCC unroll 24
    for (int u = 0; u < U; ++u) {
      const int jj = j + 2 * u;
      const __m512 g = _mm512_permutex2var_ps(_mm512_castps256_ps512(_mm256_loadu_ps(row(jj) + off)), interleave,
                                              _mm512_castps256_ps512(_mm256_loadu_ps(row(jj + 1) + off)));
#pragma GCC unroll 24
      for (int b = 0; b < MB; ++b) {
        double pair;
        std::memcpy(&pair, Y + b * ysm + jj, sizeof pair);
        acc[u][b] = _mm512_fmadd_ps(g, _mm512_castpd_ps(_mm512_set1_pd(pair)), acc[u][b]);
      }
    }
  for (; j + 2 <= J; j += 2) {
    const __m512 g = _mm512_permutex2var_ps(_mm512_castps256_ps512(_mm256_loadu_ps(row(j) + off)), interleave,
                                            _mm512_castps256_ps512(_mm256_loadu_ps(row(j + 1) + off)));
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) {
      double pair;
      std::memcpy(&pair, Y + b * ysm + j, sizeof pair);
      acc[0][b] = _mm512_fmadd_ps(g, _mm512_castpd_ps(_mm512_set1_pd(pair)), acc[0][b]);
    }
  }
  if (j < J) {  // last neighbour alone: its partner lanes are zero
    const __m512 g =
        _mm512_permutex2var_ps(_mm512_castps256_ps512(_mm256_loadu_ps(row(j) + off)), interleave, _mm512_setzero_ps());
#pragma GCC unroll 24
    for (int b = 0; b < MB; ++b) acc[0][b] = _mm512_fmadd_ps(g, _mm512_set1_ps(Y[b * ysm + j]), acc[0][b]);
  }
#pragma GCC unroll 24
  for (int b = 0; b < MB; ++b) {
    __m512 s = U == 2 ? _mm512_add_ps(acc[0][b], acc[U - 1][b]) : acc[0][b];
    s = _mm512_add_ps(s, _mm512_permute_ps(s, 0xB1));  // lane 2n + lane 2n+1, in the even lanes
    _mm256_storeu_ps(out + b * outStride, _mm512_castps512_ps256(_mm512_maskz_compress_ps(0x5555, s)));
  }
}

struct Avx2Blocks {
  static constexpr int kMaxMB = 12;
  template <int MB, bool Ix>
  SOAPIX_TARGET_AVX2 static void run(const RowAt<float, Ix>& r, int o, const float* y, long ysm, long ysj, int J,
                                     float* out, int st) {
    blockYmm<MB, Ix>(r, o, y, ysm, ysj, J, out, st);
  }
};
// ymm blocks compiled for AVX-512 (32 registers): the fallback when neither zmm form applies.
struct Avx512YmmBlocks {
  static constexpr int kMaxMB = 12;
  template <int MB, bool Ix>
  SOAPIX_TARGET_AVX512 static void run(const RowAt<float, Ix>& r, int o, const float* y, long ysm, long ysj, int J,
                                       float* out, int st) {
    blockYmm<MB, Ix>(r, o, y, ysm, ysj, J, out, st);
  }
};
struct Avx512ZmmBlocks {
  static constexpr int kMaxMB = 24;
  template <int MB, bool Ix>
  SOAPIX_TARGET_AVX512 static void run(const RowAt<float, Ix>& r, int o, const float* y, long ysm, long ysj, int J,
                                       float* out, int st) {
    blockZmm<MB, Ix>(r, o, y, ysm, ysj, J, out, st);
  }
};
struct Avx512PairBlocks {
  static constexpr int kMaxMB = 12;
  template <int MB, bool Ix>
  SOAPIX_TARGET_AVX512 static void run(const RowAt<float, Ix>& r, int o, const float* y, long ysm, long ysj, int J,
                                       float* out, int st) {
    blockPairs<MB, Ix>(r, o, y, ysm, ysj, J, out, st);
  }
};

template <bool Ix>
SOAPIX_TARGET_AVX512 void contractAvx512(const RowAt<float, Ix>& row, int J, const float* Y, long ysm, long ysj, int M,
                                         int NP, float* R) {
  if (NP % 16 == 0) contractBlocks<Avx512ZmmBlocks, 16>(row, J, Y, ysm, ysj, M, NP, R);
  else if (ysj == 1) contractBlocks<Avx512PairBlocks, 8>(row, J, Y, ysm, ysj, M, NP, R);
  else contractBlocks<Avx512YmmBlocks, 8>(row, J, Y, ysm, ysj, M, NP, R);
}
template <bool Ix>
SOAPIX_TARGET_AVX2 void contractAvx2(const RowAt<float, Ix>& row, int J, const float* Y, long ysm, long ysj, int M,
                                     int NP, float* R) {
  contractBlocks<Avx2Blocks, 8>(row, J, Y, ysm, ysj, M, NP, R);
}
#endif

template <bool Ix>
void contractBaseline(const RowAt<float, Ix>& row, int J, const float* Y, long ysm, long ysj, int M, int NP, float* R) {
  contractBlocks<BaselineBlocks<float>, 8>(row, J, Y, ysm, ysj, M, NP, R);
}

template <bool Ix>
void dispatch(const RowAt<float, Ix>& row, int J, const float* Y, long ysm, long ysj, int M, int NP, float* R) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const int path = cpuHasAvx512() ? 2 : cpuHasAvx2() ? 1 : 0;
  if (path == 2) return contractAvx512<Ix>(row, J, Y, ysm, ysj, M, NP, R);
  if (path == 1) return contractAvx2<Ix>(row, J, Y, ysm, ysj, M, NP, R);
#endif
  contractBaseline<Ix>(row, J, Y, ysm, ysj, M, NP, R);
}

}  // namespace

void contract(const Rows<float>& rows, int J, const float* Y, long ysm, long ysj, int M, int NP, float* R) {
  if (rows.idx) dispatch<true>(RowAt<float, true>{rows.base, rows.rs, rows.idx}, J, Y, ysm, ysj, M, NP, R);
  else dispatch<false>(RowAt<float, false>{rows.base, rows.rs, nullptr}, J, Y, ysm, ysj, M, NP, R);
}

}  // namespace soapix
