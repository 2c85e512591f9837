// GTO expansion coefficients (CONVENTIONS.md §3), organised for speed. For one centre,
//   c_nlm = sum_j G_nl(r_j^2) w_j r_j^l Y_lm(d_j),   G_nl(r^2) = sum_k coef[l][n][k] e^{aOa[l][k] r^2}
// is, for each l, a small matrix product (neighbours x radial functions) x (neighbours x harmonics),
// computed with a register-blocked kernel (8 radial functions x up to 6-8 harmonics per block).
// On integer grids (MNIST pixels with integer heights) squared distances are integers, so G_nl
// comes straight from a table built once per Soap: no exp() and no beta matrices per centre.
// Elsewhere the primitive exponentials are computed per neighbour and the beta matrices are applied
// once per centre, not once per neighbour.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include <immintrin.h>

#include "coefficients.h"
#include "simd.h"
#include "spherical_harmonics.h"

namespace soapix {
namespace {

constexpr long long kMaxRadialTableBytes = 64LL << 20;
constexpr int kBlockN = 8;  // radial functions per register block

inline int padBlock(int n) { return (n + kBlockN - 1) / kBlockN * kBlockN; }

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

// R[m * NP + n] = sum_j rows[j * rs + n] * Y[m * S + j] for the 2l+1 harmonics m of one l and
// n < NP. Y and R point at the first harmonic of that l.
template <class Blocks>
SOAPIX_INLINE void contractL(const double* rows, long rs, const double* Y, long S, int J, int l, int NP, double* R) {
  constexpr int MBMAX = Blocks::kMaxMB;
  const int M = 2 * l + 1;
  for (int n0 = 0; n0 < NP; n0 += kBlockN) {
    // Split the 2l+1 harmonics into equal blocks of at most MBMAX (7 -> 4 + 3, not 6 + 1).
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
SOAPIX_TARGET_AVX512 void contractAvx512(const double* rows, long rs, const double* Y, long S, int J, int l, int NP,
                                         double* R) {
  contractL<Avx512Blocks>(rows, rs, Y, S, J, l, NP, R);
}
SOAPIX_TARGET_AVX2 void contractAvx2(const double* rows, long rs, const double* Y, long S, int J, int l, int NP,
                                     double* R) {
  contractL<Avx2Blocks>(rows, rs, Y, S, J, l, NP, R);
}
void contractBaseline(const double* rows, long rs, const double* Y, long S, int J, int l, int NP, double* R) {
  contractL<BaselineBlocks>(rows, rs, Y, S, J, l, NP, R);
}
const ContractFn kContract = cpuHasAvx512() ? contractAvx512 : cpuHasAvx2() ? contractAvx2 : contractBaseline;

// Scratch of one thread, reused from centre to centre.
struct GtoScratch {
  std::vector<double> xyz;          // x, y, z, r2 rows of the centre's neighbours (4 x S)
  std::vector<double> Y;            // (lMax+1)^2 x S harmonics, then 4 x S recursion scratch
  std::vector<double> R;            // (lMax+1)^2 x NP contraction result
  std::vector<double> rows;         // radial rows: J x (lMax+1) x NP
};
thread_local GtoScratch tScratch;

class GtoKernel final : public CoefficientKernel {
 public:
  GtoKernel(const SoapParams& p, const GtoBasis& basis)
      : nMax_(p.nMax), lMax_(p.lMax), NP_(padBlock(p.nMax)), harmonics_(p.lMax) {
    checkGtoBasis(basis, p.nMax, p.lMax);
    const double eta = p.eta();
    const int L = lMax_ + 1;
    aOa_.resize(L * nMax_);
    coef_.resize(L * nMax_ * nMax_);
    for (int l = 0; l < L; ++l)
      for (int k = 0; k < nMax_; ++k) {
        const double alpha = basis.alphas[l * nMax_ + k];
        aOa_[l * nMax_ + k] = -alpha * eta / (eta + alpha);
        // (pi/(eta+alpha))^{3/2} (eta/(eta+alpha))^l: the Gaussian-times-GTO overlap integral.
        const double f = std::pow(M_PI / (eta + alpha), 1.5) * std::pow(eta / (eta + alpha), l);
        for (int n = 0; n < nMax_; ++n)
          coef_[(l * nMax_ + n) * nMax_ + k] = basis.betas[(l * nMax_ + n) * nMax_ + k] * f;
      }
    const double cut2 = p.neighbourCutoff() * p.neighbourCutoff();
    tableMax_ = static_cast<long long>(std::floor(std::min(cut2, 1e9)));
    if ((tableMax_ + 1) * L * NP_ * 8 > kMaxRadialTableBytes) tableMax_ = -1;
  }

  std::vector<double> powerPrefactors() const override {
    std::vector<double> f(lMax_ + 1);
    for (int l = 0; l <= lMax_; ++l) f[l] = M_PI * std::sqrt(8.0 / (2.0 * l + 1.0));
    return f;
  }

  void compute(const NeighbourList& nb, double* out, Workspace&) const override {
    GtoScratch& t = tScratch;
    const int G = nb.numGroups();
    const int L = lMax_ + 1, LL = L * L, NP = NP_;
    const int J = nb.begin[G];
    const int S = std::max(padLanes(J), kLanes);
    bool integral = tableMax_ >= 0;
    bool unitWeights = true;
    for (int j = 0; j < J; ++j) {
      const double r2 = nb.r2[j];
      integral = integral && r2 <= static_cast<double>(tableMax_) && r2 == std::floor(r2);
      unitWeights = unitWeights && nb.w[j] == 1.0;
    }
    // Harmonics of every neighbour, scaled by the neighbour's weight when weights are not all 1.
    t.Y.resize(static_cast<size_t>(LL + 4) * S);
    double* Y = t.Y.data();
    harmonics_.compute(nb.dx.data(), nb.dy.data(), nb.dz.data(), nb.r2.data(), J, S, Y, Y + static_cast<size_t>(LL) * S);
    if (!unitWeights)
      for (int lm = 0; lm < LL; ++lm)
        for (int j = 0; j < J; ++j) Y[static_cast<long>(lm) * S + j] *= nb.w[j];
    // Radial rows of every neighbour, packed contiguously ([j][l][n]) so the contraction streams
    // them with a constant stride. Integer grids: G_nl(r2) copied from the table (whole rows, so the
    // hardware prefetcher follows each row). Elsewhere: the primitive exponentials; the beta matrices
    // are applied afterwards.
    const long rs = static_cast<long>(L) * NP;
    t.rows.resize(static_cast<size_t>(J) * rs);
    double* rows = t.rows.data();
    if (integral) {
      const double* table = radialTable();
      for (int j = 0; j < J; ++j)
        std::memcpy(rows + j * rs, table + static_cast<long>(nb.r2[j]) * rs, sizeof(double) * rs);
    } else {
      std::fill(rows, rows + static_cast<long>(J) * rs, 0.0);
      for (int j = 0; j < J; ++j) {
        double* row = rows + j * rs;
        for (int l = 0; l < L; ++l)
          for (int k = 0; k < nMax_; ++k) row[l * NP + k] = std::exp(aOa_[l * nMax_ + k] * nb.r2[j]);
      }
    }
    t.R.resize(static_cast<size_t>(LL) * NP);
    double* R = t.R.data();
    for (int g = 0; g < G; ++g) {
      double* cg = out + static_cast<long>(g) * nMax_ * LL;
      const int b = nb.begin[g], J_g = nb.begin[g + 1] - b;
      if (J_g == 0) {
        std::fill(cg, cg + static_cast<long>(nMax_) * LL, 0.0);
        continue;
      }
      for (int l = 0; l < L; ++l)
        kContract(rows + b * rs + l * NP, rs, Y + static_cast<long>(l * l) * S + b, S, J_g, l, NP,
                  R + static_cast<long>(l * l) * NP);
      if (integral) {
        for (int n = 0; n < nMax_; ++n)
          for (int lm = 0; lm < LL; ++lm) cg[n * LL + lm] = R[lm * NP + n];
      } else {
        for (int l = 0; l < L; ++l)
          for (int n = 0; n < nMax_; ++n) {
            const double* cf = &coef_[(l * nMax_ + n) * nMax_];
            for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
              const double* P = R + lm * NP;
              double s = 0.0;
              for (int k = 0; k < nMax_; ++k) s += cf[k] * P[k];
              cg[n * LL + lm] = s;
            }
          }
      }
    }
  }

 private:
  // table[r2][l][n] = G_nl(r2) = sum_k coef[l][n][k] exp(aOa[l][k] r2) for every integer r2 in
  // [0, tableMax] (n padded to NP with zeros), built on first use.
  const double* radialTable() const {
    std::call_once(tableOnce_, [this] {
      const int L = lMax_ + 1;
      const long long T = tableMax_ + 1;
      table_.assign(static_cast<size_t>(T) * L * NP_, 0.0);
      std::vector<double> e(nMax_);
      for (long long r = 0; r < T; ++r)
        for (int l = 0; l < L; ++l) {
          for (int k = 0; k < nMax_; ++k) e[k] = std::exp(aOa_[l * nMax_ + k] * static_cast<double>(r));
          double* row = &table_[(r * L + l) * NP_];
          for (int n = 0; n < nMax_; ++n) {
            const double* cf = &coef_[(l * nMax_ + n) * nMax_];
            double s = 0.0;
            for (int k = 0; k < nMax_; ++k) s += cf[k] * e[k];
            row[n] = s;
          }
        }
    });
    return table_.data();
  }

  int nMax_, lMax_, NP_;
  SolidHarmonics harmonics_;
  std::vector<double> aOa_, coef_;
  long long tableMax_;
  mutable std::once_flag tableOnce_;
  mutable std::vector<double> table_;
};

}  // namespace

std::unique_ptr<CoefficientKernel> makeGtoKernel(const SoapParams& p, const GtoBasis& basis) {
  return std::make_unique<GtoKernel>(p, basis);
}

}  // namespace soapix
