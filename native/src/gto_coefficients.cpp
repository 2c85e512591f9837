// GTO expansion coefficients (docs/CONVENTIONS.md §3), organised for speed. For one centre,
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

#include "coefficients.h"
#include "contraction.h"
#include "simd.h"
#include "spherical_harmonics.h"
#include "vector_exp.h"

namespace soapix {
namespace {

constexpr long long kMaxRadialTableBytes = 64LL << 20;
class GtoKernel final : public CoefficientKernel {
 public:
  GtoKernel(const SoapParams& p, const GtoBasis& basis)
      : nMax_(p.nMax), lMax_(p.lMax), NP_(padLanes(p.nMax)), harmonics_(p.lMax) {
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
    aOaPadded_.assign(static_cast<size_t>(L) * NP_, 0.0);
    for (int l = 0; l < L; ++l)
      for (int k = 0; k < nMax_; ++k) aOaPadded_[l * NP_ + k] = aOa_[l * nMax_ + k];
    const double cut2 = p.neighbourCutoff() * p.neighbourCutoff();
    tableMax_ = static_cast<long long>(std::floor(std::min(cut2, 1e9)));
    if ((tableMax_ + 1) * L * NP_ * 8 > kMaxRadialTableBytes) tableMax_ = -1;
  }

  std::vector<double> powerPrefactors() const override {
    std::vector<double> f(lMax_ + 1);
    for (int l = 0; l <= lMax_; ++l) f[l] = M_PI * std::sqrt(8.0 / (2.0 * l + 1.0));
    return f;
  }

  void compute(const NeighbourList& nb, double* out, Workspace& ws) const override {
    // Scratch reused across centres: ws.a harmonics, ws.b radial rows, ws.c contraction result.
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
    ws.a.resize(static_cast<size_t>(LL + 4) * S);
    double* Y = ws.a.data();
    harmonics_.compute(nb.dx.data(), nb.dy.data(), nb.dz.data(), nb.r2.data(), J, S, Y, Y + static_cast<size_t>(LL) * S);
    if (!unitWeights)
      for (int lm = 0; lm < LL; ++lm)
        for (int j = 0; j < J; ++j) Y[static_cast<long>(lm) * S + j] *= nb.w[j];
    // Radial rows of every neighbour, packed contiguously ([j][l][n]) so the contraction streams
    // them with a constant stride. Integer grids: G_nl(r2) copied from the table (whole rows, so the
    // hardware prefetcher follows each row). Elsewhere: the primitive exponentials; the beta matrices
    // are applied afterwards.
    const long rs = static_cast<long>(L) * NP;
    ws.b.resize(static_cast<size_t>(J) * rs);
    double* rows = ws.b.data();
    if (integral) {
      const double* table = radialTable();
      for (int j = 0; j < J; ++j)
        std::memcpy(rows + j * rs, table + static_cast<long>(nb.r2[j]) * rs, sizeof(double) * rs);
    } else {
      // Padding lanes (k >= nMax) have exponent 0 and give 1; their products are never read.
      expRows(aOaPadded_.data(), L * NP, nb.r2.data(), J, rs, rows);
    }
    ws.c.resize(static_cast<size_t>(LL) * NP);
    double* R = ws.c.data();
    for (int g = 0; g < G; ++g) {
      double* cg = out + static_cast<long>(g) * nMax_ * LL;
      const int b = nb.begin[g], J_g = nb.begin[g + 1] - b;
      if (J_g == 0) {
        std::fill(cg, cg + static_cast<long>(nMax_) * LL, 0.0);
        continue;
      }
      for (int l = 0; l < L; ++l)
        contractRows(rows + b * rs + l * NP, rs, Y + static_cast<long>(l * l) * S + b, S, J_g, 2 * l + 1, NP,
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
  std::vector<double> aOaPadded_;  // aOa as [l][NP], zero in the padding lanes
  long long tableMax_;
  mutable std::once_flag tableOnce_;
  mutable std::vector<double> table_;
};

}  // namespace

std::unique_ptr<CoefficientKernel> makeGtoKernel(const SoapParams& p, const GtoBasis& basis) {
  return std::make_unique<GtoKernel>(p, basis);
}

}  // namespace soapix
