// Shared pieces of the contraction kernels (contraction.cpp, contraction_f32.cpp): row access,
// the portable micro-kernel (plain loops the compiler vectorises: SSE2 on x86-64, NEON on arm64)
// and the driver that splits M outputs into register blocks of equal size.
#pragma once
#include <cstdint>

#include "simd.h"

namespace soapix {

// Row j of the left operand: base + (Ix ? idx[j] : j) * rs.
template <class T, bool Ix>
struct RowAt {
  const T* base;
  long rs;
  const int32_t* idx;
  SOAPIX_INLINE const T* operator()(int j) const { return base + (Ix ? static_cast<long>(idx[j]) : j) * rs; }
};

template <class T>
struct BaselineBlocks {
  static constexpr int kMaxMB = 4;
  template <int MB, bool Ix>
  static void run(const RowAt<T, Ix>& row, int off, const T* Y, long ysm, long ysj, int J, T* out, int outStride) {
    T acc[MB][8] = {};
    for (int j = 0; j < J; ++j) {
      const T* g = row(j) + off;
      const T* y = Y + j * ysj;
#pragma GCC unroll 16
      for (int b = 0; b < MB; ++b) {
        const T yb = y[b * ysm];
        for (int n = 0; n < 8; ++n) acc[b][n] += g[n] * yb;
      }
    }
#pragma GCC unroll 16
    for (int b = 0; b < MB; ++b)
      for (int n = 0; n < 8; ++n) out[b * outStride + n] = acc[b][n];
  }
};

// Blocks of BN consecutive n; the M outputs are split into equal blocks of at most Blocks::kMaxMB
// (7 -> 4 + 3, not 6 + 1).
template <class Blocks, int BN, class T, bool Ix>
SOAPIX_INLINE void contractBlocks(const RowAt<T, Ix>& row, int J, const T* Y, long ysm, long ysj, int M, int NP, T* R) {
  constexpr int MBMAX = Blocks::kMaxMB;
  const int blocks = (M + MBMAX - 1) / MBMAX;
  for (int n0 = 0; n0 < NP; n0 += BN) {
    for (int bi = 0, m0 = 0; bi < blocks; ++bi) {
      const int mb = (M - m0) / (blocks - bi);
      const T* y = Y + static_cast<long>(m0) * ysm;
      T* out = R + static_cast<long>(m0) * NP + n0;
#define SOAPIX_BLOCK(k) \
  case k: Blocks::template run<(MBMAX >= k ? k : 1), Ix>(row, n0, y, ysm, ysj, J, out, NP); break;
      // A switch of macro cases, which clang-format cannot lay out stably:
      // clang-format off
      switch (mb) {
        SOAPIX_BLOCK(24) SOAPIX_BLOCK(23) SOAPIX_BLOCK(22) SOAPIX_BLOCK(21) SOAPIX_BLOCK(20) SOAPIX_BLOCK(19)
        SOAPIX_BLOCK(18) SOAPIX_BLOCK(17) SOAPIX_BLOCK(16) SOAPIX_BLOCK(15) SOAPIX_BLOCK(14) SOAPIX_BLOCK(13)
        SOAPIX_BLOCK(12) SOAPIX_BLOCK(11) SOAPIX_BLOCK(10) SOAPIX_BLOCK(9) SOAPIX_BLOCK(8) SOAPIX_BLOCK(7)
        SOAPIX_BLOCK(6) SOAPIX_BLOCK(5) SOAPIX_BLOCK(4) SOAPIX_BLOCK(3) SOAPIX_BLOCK(2)
        default: Blocks::template run<1, Ix>(row, n0, y, ysm, ysj, J, out, NP); break;
      }
      // clang-format on
#undef SOAPIX_BLOCK
      m0 += mb;
    }
  }
}

}  // namespace soapix
