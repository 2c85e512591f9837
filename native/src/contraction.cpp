// The register-blocked small matrix product shared by the coefficient and power-spectrum stages:
//   R[m * NP + n] = sum_j rows[j * rs + n] * Y[m * S + j]     (m < M, n < NP)
// with one micro-kernel per instruction set, chosen at run time.
#include "contraction.h"

#include <algorithm>

#include <immintrin.h>

#include "simd.h"

namespace soapix {
namespace {

constexpr int kBlockN = 8;  // radial functions per register block


// out[b * outStride + n] = sum_j rows[j][n] * Y[b * S + j] for b < MB, n < 8: the register-blocked
// micro-kernel, one per instruction set. Small blocks (MB <= 3) use two interleaved accumulator
// sets so the FMA latency chain does not limit them.
template <int MB>
SOAPIX_TARGET_AVX2 inline void blockAvx2(const double* rows, long rs, int off, const double* Y, long S, int J,
                                         double* out, int outStride) {
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
      const double* g = rows + (j + u) * rs + off;
      const __m256d g0 = _mm256_loadu_pd(g), g1 = _mm256_loadu_pd(g + 4);
      #pragma GCC unroll 16
      for (int b = 0; b < MB; ++b) {
        const __m256d y = _mm256_broadcast_sd(Y + b * S + j + u);
        acc[u][b][0] = _mm256_fmadd_pd(g0, y, acc[u][b][0]);
        acc[u][b][1] = _mm256_fmadd_pd(g1, y, acc[u][b][1]);
      }
    }
  for (; j < J; ++j) {
    const double* g = rows + j * rs + off;
    const __m256d g0 = _mm256_loadu_pd(g), g1 = _mm256_loadu_pd(g + 4);
    #pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) {
      const __m256d y = _mm256_broadcast_sd(Y + b * S + j);
      acc[0][b][0] = _mm256_fmadd_pd(g0, y, acc[0][b][0]);
      acc[0][b][1] = _mm256_fmadd_pd(g1, y, acc[0][b][1]);
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

template <int MB>
SOAPIX_TARGET_AVX512 inline void blockAvx512(const double* rows, long rs, int off, const double* Y, long S, int J,
                                             double* out, int outStride) {
  constexpr int U = MB <= 4 ? 2 : 1;
  __m512d acc[U][MB];
  #pragma GCC unroll 16
  for (int u = 0; u < U; ++u)
    #pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_setzero_pd();
  int j = 0;
  for (; j + U <= J; j += U)
    #pragma GCC unroll 16
    for (int u = 0; u < U; ++u) {
      const __m512d g = _mm512_loadu_pd(rows + (j + u) * rs + off);
      #pragma GCC unroll 16
      for (int b = 0; b < MB; ++b) acc[u][b] = _mm512_fmadd_pd(g, _mm512_set1_pd(Y[b * S + j + u]), acc[u][b]);
    }
  for (; j < J; ++j) {
    const __m512d g = _mm512_loadu_pd(rows + j * rs + off);
    #pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) acc[0][b] = _mm512_fmadd_pd(g, _mm512_set1_pd(Y[b * S + j]), acc[0][b]);
  }
  #pragma GCC unroll 16
  for (int b = 0; b < MB; ++b) {
    if (U == 2) acc[0][b] = _mm512_add_pd(acc[0][b], acc[U - 1][b]);
    _mm512_storeu_pd(out + b * outStride, acc[0][b]);
  }
}

template <int MB>
inline void blockBaseline(const double* rows, long rs, int off, const double* Y, long S, int J, double* out,
                          int outStride) {
  double acc[MB][kBlockN] = {};
  for (int j = 0; j < J; ++j) {
    const double* g = rows + j * rs + off;
    #pragma GCC unroll 16
    for (int b = 0; b < MB; ++b) {
      const double y = Y[b * S + j];
      for (int n = 0; n < kBlockN; ++n) acc[b][n] += g[n] * y;
    }
  }
  #pragma GCC unroll 16
  for (int b = 0; b < MB; ++b)
    for (int n = 0; n < kBlockN; ++n) out[b * outStride + n] = acc[b][n];
}

struct Avx2Blocks {
  static constexpr int kMaxMB = 6;
  template <int MB>
  SOAPIX_TARGET_AVX2 static void run(const double* r, long rs, int o, const double* y, long S, int J, double* out, int st) {
    blockAvx2<MB>(r, rs, o, y, S, J, out, st);
  }
};
struct Avx512Blocks {
  static constexpr int kMaxMB = 8;
  template <int MB>
  SOAPIX_TARGET_AVX512 static void run(const double* r, long rs, int o, const double* y, long S, int J, double* out,
                                       int st) {
    blockAvx512<MB>(r, rs, o, y, S, J, out, st);
  }
};
struct BaselineBlocks {
  static constexpr int kMaxMB = 4;
  template <int MB>
  static void run(const double* r, long rs, int o, const double* y, long S, int J, double* out, int st) {
    blockBaseline<MB>(r, rs, o, y, S, J, out, st);
  }
};

template <class Blocks>
SOAPIX_INLINE void contractT(const double* rows, long rs, const double* Y, long S, int J, int M, int NP, double* R) {
  constexpr int MBMAX = Blocks::kMaxMB;
  for (int n0 = 0; n0 < NP; n0 += kBlockN) {
    // Split the M outputs into equal blocks of at most MBMAX (7 -> 4 + 3, not 6 + 1).
    const int blocks = (M + MBMAX - 1) / MBMAX;
    for (int bi = 0, m0 = 0; bi < blocks; ++bi) {
      const int mb = (M - m0) / (blocks - bi);
      const double* y = Y + static_cast<long>(m0) * S;
      double* out = R + static_cast<long>(m0) * NP + n0;
      switch (mb) {
        case 8: Blocks::template run<(MBMAX >= 8 ? 8 : 1)>(rows, rs, n0, y, S, J, out, NP); break;
        case 7: Blocks::template run<(MBMAX >= 7 ? 7 : 1)>(rows, rs, n0, y, S, J, out, NP); break;
        case 6: Blocks::template run<(MBMAX >= 6 ? 6 : 1)>(rows, rs, n0, y, S, J, out, NP); break;
        case 5: Blocks::template run<(MBMAX >= 5 ? 5 : 1)>(rows, rs, n0, y, S, J, out, NP); break;
        case 4: Blocks::template run<4>(rows, rs, n0, y, S, J, out, NP); break;
        case 3: Blocks::template run<3>(rows, rs, n0, y, S, J, out, NP); break;
        case 2: Blocks::template run<2>(rows, rs, n0, y, S, J, out, NP); break;
        default: Blocks::template run<1>(rows, rs, n0, y, S, J, out, NP); break;
      }
      m0 += mb;
    }
  }
}

using ContractFn = void (*)(const double*, long, const double*, long, int, int, int, double*);
SOAPIX_TARGET_AVX512 void contractAvx512(const double* rows, long rs, const double* Y, long S, int J, int M, int NP,
                                         double* R) {
  contractT<Avx512Blocks>(rows, rs, Y, S, J, M, NP, R);
}
SOAPIX_TARGET_AVX2 void contractAvx2(const double* rows, long rs, const double* Y, long S, int J, int M, int NP,
                                     double* R) {
  contractT<Avx2Blocks>(rows, rs, Y, S, J, M, NP, R);
}
void contractBaseline(const double* rows, long rs, const double* Y, long S, int J, int M, int NP, double* R) {
  contractT<BaselineBlocks>(rows, rs, Y, S, J, M, NP, R);
}
const ContractFn kContract = cpuHasAvx512() ? contractAvx512 : cpuHasAvx2() ? contractAvx2 : contractBaseline;

}  // namespace

void contractRows(const double* rows, long rs, const double* Y, long S, int J, int M, int NP, double* R) {
  kContract(rows, rs, Y, S, J, M, NP, R);
}

}  // namespace soapix
