// The register-blocked small matrix product in float64 (contraction.h):
//   R[m * NP + n] = sum_j row_j[n] * Y[m * ysm + j * ysj]     (m < M, n < NP)
// One block = 8 consecutive n (two ymm or one zmm register per output row m) x MB rows m, kept in
// registers while j runs; one micro-kernel per instruction set, chosen at run time.
#include <algorithm>

#include "contraction.h"
#include "contraction_blocks.h"
#include "simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace soapix {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// Small blocks (MB <= 3) use two interleaved accumulator sets so the FMA latency chain does not
// limit them.
template <int MB, bool Ix>
SOAPIX_TARGET_AVX2 inline void blockAvx2(const RowAt<double, Ix>& row, int off, const double* Y, long ysm, long ysj,
                                         int J, double* out, int outStride) {
  constexpr int U = MB <= 3 ? 2 : 1;
  __m256d acc[U][MB][2];
#pragma GCC unroll 16
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) acc[u][b][0] = acc[u][b][1] = _mm256_setzero_pd();
  int j = 0;
  for (; j + U <= J; j += U)
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u) {
      const double* g = row(j + u) + off;
      const double* y = Y + (j + u) * ysj;
      const __m256d g0 = _mm256_loadu_pd(g), g1 = _mm256_loadu_pd(g + 4);
#pragma GCC unroll 16
      for (int b = 0; b < MB; ++b) {
        const __m256d yv = _mm256_broadcast_sd(y + b * ysm);
        acc[u][b][0] = _mm256_fmadd_pd(g0, yv, acc[u][b][0]);
        acc[u][b][1] = _mm256_fmadd_pd(g1, yv, acc[u][b][1]);
      }
    }
  for (; j < J; ++j) {
    const double* g = row(j) + off;
    const double* y = Y + j * ysj;
    const __m256d g0 = _mm256_loadu_pd(g), g1 = _mm256_loadu_pd(g + 4);
#pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) {
      const __m256d yv = _mm256_broadcast_sd(y + b * ysm);
      acc[0][b][0] = _mm256_fmadd_pd(g0, yv, acc[0][b][0]);
      acc[0][b][1] = _mm256_fmadd_pd(g1, yv, acc[0][b][1]);
    }
  }
#pragma GCC unroll 16
  for (int b = 0; b < MB; ++b) {
    if (U == 2) {
      acc[0][b][0] = _mm256_add_pd(acc[0][b][0], acc[U - 1][b][0]);
      acc[0][b][1] = _mm256_add_pd(acc[0][b][1], acc[U - 1][b][1]);
    }
    _mm256_storeu_pd(out + b * outStride, acc[0][b][0]);
    _mm256_storeu_pd(out + b * outStride + 4, acc[0][b][1]);
  }
}

// 32 zmm registers: blocks of up to 12 rows; up to 6 rows use two accumulator sets.
template <int MB, bool Ix>
SOAPIX_TARGET_AVX512 inline void blockAvx512(const RowAt<double, Ix>& row, int off, const double* Y, long ysm, long ysj,
                                             int J, double* out, int outStride) {
  constexpr int U = MB <= 6 ? 2 : 1;
  __m512d acc[U][MB];
#pragma GCC unroll 16
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_setzero_pd();
  int j = 0;
  for (; j + U <= J; j += U)
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u) {
      const __m512d g = _mm512_loadu_pd(row(j + u) + off);
      const double* y = Y + (j + u) * ysj;
#pragma GCC unroll 16
      for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_fmadd_pd(g, _mm512_set1_pd(y[b * ysm]), acc[u][b]);
    }
  for (; j < J; ++j) {
    const __m512d g = _mm512_loadu_pd(row(j) + off);
    const double* y = Y + j * ysj;
#pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) acc[0][b] = _mm512_fmadd_pd(g, _mm512_set1_pd(y[b * ysm]), acc[0][b]);
  }
#pragma GCC unroll 16
  for (int b = 0; b < MB; ++b) {
    if (U == 2) acc[0][b] = _mm512_add_pd(acc[0][b], acc[U - 1][b]);
    _mm512_storeu_pd(out + b * outStride, acc[0][b]);
  }
}

struct Avx2Blocks {
  static constexpr int kMaxMB = 6;
  template <int MB, bool Ix>
  SOAPIX_TARGET_AVX2 static void run(const RowAt<double, Ix>& r, int o, const double* y, long ysm, long ysj, int J,
                                     double* out, int st) {
    blockAvx2<MB, Ix>(r, o, y, ysm, ysj, J, out, st);
  }
};
struct Avx512Blocks {
  static constexpr int kMaxMB = 12;
  template <int MB, bool Ix>
  SOAPIX_TARGET_AVX512 static void run(const RowAt<double, Ix>& r, int o, const double* y, long ysm, long ysj, int J,
                                       double* out, int st) {
    blockAvx512<MB, Ix>(r, o, y, ysm, ysj, J, out, st);
  }
};

template <bool Ix>
SOAPIX_TARGET_AVX512 void contractAvx512(const RowAt<double, Ix>& row, int J, const double* Y, long ysm, long ysj,
                                         int M, int NP, double* R) {
  contractBlocks<Avx512Blocks, 8>(row, J, Y, ysm, ysj, M, NP, R);
}
template <bool Ix>
SOAPIX_TARGET_AVX2 void contractAvx2(const RowAt<double, Ix>& row, int J, const double* Y, long ysm, long ysj, int M,
                                     int NP, double* R) {
  contractBlocks<Avx2Blocks, 8>(row, J, Y, ysm, ysj, M, NP, R);
}
#endif

template <bool Ix>
void contractBaseline(const RowAt<double, Ix>& row, int J, const double* Y, long ysm, long ysj, int M, int NP,
                      double* R) {
  contractBlocks<BaselineBlocks<double>, 8>(row, J, Y, ysm, ysj, M, NP, R);
}

template <bool Ix>
void dispatch(const RowAt<double, Ix>& row, int J, const double* Y, long ysm, long ysj, int M, int NP, double* R) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const int path = cpuHasAvx512() ? 2 : cpuHasAvx2() ? 1 : 0;
  if (path == 2) return contractAvx512<Ix>(row, J, Y, ysm, ysj, M, NP, R);
  if (path == 1) return contractAvx2<Ix>(row, J, Y, ysm, ysj, M, NP, R);
#endif
  contractBaseline<Ix>(row, J, Y, ysm, ysj, M, NP, R);
}

}  // namespace

void contract(const Rows<double>& rows, int J, const double* Y, long ysm, long ysj, int M, int NP, double* R) {
  if (rows.idx) dispatch<true>(RowAt<double, true>{rows.base, rows.rs, rows.idx}, J, Y, ysm, ysj, M, NP, R);
  else dispatch<false>(RowAt<double, false>{rows.base, rows.rs, nullptr}, J, Y, ysm, ysj, M, NP, R);
}

}  // namespace soapix
