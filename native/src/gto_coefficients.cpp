// GTO expansion coefficients in float64 (gto_kernel.h):
//   c[g][lm][n] = sum_{j in g} G_nl(r_j^2) w_j r_j^l Y_lm(d_j),
// one register-blocked product per l. On integer grids the rows G_nl(r_j^2) are read in place from
// the radial table; elsewhere the primitive exponentials e^{aOa[l][k] r_j^2} are contracted first
// and the beta matrices applied to the (lm x k) result once per centre.
#include <algorithm>
#include <cmath>

#include "contraction.h"
#include "gto_kernel.h"
#include "simd.h"
#include "vector_exp.h"

namespace soapix {
namespace {
constexpr long long kMaxRadialTableBytes = 64LL << 20;
}

GtoKernel::GtoKernel(const SoapParams& p, const GtoBasis& basis)
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
      for (int n = 0; n < nMax_; ++n) coef_[(l * nMax_ + n) * nMax_ + k] = basis.betas[(l * nMax_ + n) * nMax_ + k] * f;
    }
  aOaPacked_.assign(static_cast<size_t>(padLanes(L * nMax_)), 0.0);
  std::copy(aOa_.begin(), aOa_.end(), aOaPacked_.begin());
  const double cut2 = p.neighbourCutoff() * p.neighbourCutoff();
  tableMax_ = static_cast<long long>(std::floor(std::min(cut2, 1e9)));
  if ((tableMax_ + 1) * L * NP_ * 8 > kMaxRadialTableBytes) tableMax_ = -1;
}

std::vector<double> GtoKernel::powerPrefactors() const {
  std::vector<double> f(lMax_ + 1);
  for (int l = 0; l <= lMax_; ++l) f[l] = M_PI * std::sqrt(8.0 / (2.0 * l + 1.0));
  return f;
}

bool GtoKernel::onTable(const NeighbourList& nb) const {
  if (tableMax_ < 0) return false;
  // Integer r2 within the search cutoff: r2 <= floor(cutoff^2) = tableMax.
  if (nb.integerR2) return true;
  const double top = static_cast<double>(tableMax_);
  const int J = nb.count();
  for (int j = 0; j < J; ++j) {
    const double r2 = nb.r2[j];  // in [0, cutoff^2]: the conversion to an integer is exact when r2 is one
    if (!(r2 <= top) || r2 != static_cast<double>(static_cast<int64_t>(r2))) return false;
  }
  return true;
}

const double* GtoKernel::radialTable() const {
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

void GtoKernel::compute(const NeighbourList& nb, double* out, Workspace& ws) const {
  const int G = nb.numGroups();
  const int L = lMax_ + 1, LL = L * L, NP = NP_;
  const int J = nb.count();
  const int S = std::max(padVec(J), kVecPad);
  // Solid harmonics of every neighbour, scaled by the neighbour's weight when weights are not all 1.
  ws.a.resize(static_cast<size_t>(LL + 4) * S);
  double* Y = ws.a.data();
  harmonics_.compute(nb.dx.data(), nb.dy.data(), nb.dz.data(), nb.r2.data(), J, S, Y, Y + static_cast<size_t>(LL) * S);
  if (!nb.unitWeights)
    for (int lm = 0; lm < LL; ++lm)
      for (int j = 0; j < J; ++j) Y[static_cast<long>(lm) * S + j] *= nb.w[j];
  if (!onTable(nb)) {
    offGrid(nb, Y, S, out, ws);
    return;
  }
  ws.idx.resize(S);
  int32_t* idx = ws.idx.data();
  for (int j = 0; j < J; ++j) idx[j] = static_cast<int32_t>(nb.r2[j]);
  const double* table = radialTable();
  const long rs = static_cast<long>(L) * NP;
  for (int g = 0; g < G; ++g) {
    double* cg = out + static_cast<long>(g) * LL * NP;
    const int b = nb.begin[g], Jg = nb.begin[g + 1] - b;
    if (Jg == 0) {
      std::fill(cg, cg + static_cast<long>(LL) * NP, 0.0);
      continue;
    }
    for (int l = 0; l < L; ++l)
      contract(Rows<double>{table + l * NP, rs, idx + b}, Jg, Y + static_cast<long>(l * l) * S + b, S, 1, 2 * l + 1, NP,
               cg + static_cast<long>(l * l) * NP);
  }
}

void GtoKernel::offGrid(const NeighbourList& nb, const double* Y, int S, double* out, Workspace& ws) const {
  const int G = nb.numGroups();
  const int L = lMax_ + 1, LL = L * L, NP = NP_;
  const int J = nb.count();
  // Primitive exponentials of every neighbour, packed: row j holds e^{aOa[l][k] r_j^2} at l * nMax + k
  // (no padding per l, so no exp is computed for a padding lane). The contraction reads 8 lanes
  // from l * nMax on: lanes k >= nMax belong to the next l (or the zero-exponent tail, or the slack
  // after it) and land in R[lm][k >= nMax], which is never read.
  const int width = padLanes(L * nMax_);
  const long rs = width + kLanes;
  ws.b.resize(static_cast<size_t>(std::max(J, 1)) * rs);
  double* rows = ws.b.data();
  expRows(aOaPacked_.data(), width, nb.r2.data(), J, rs, rows);
  ws.c.resize(static_cast<size_t>(LL) * NP);
  double* R = ws.c.data();
  for (int g = 0; g < G; ++g) {
    double* cg = out + static_cast<long>(g) * LL * NP;
    std::fill(cg, cg + static_cast<long>(LL) * NP, 0.0);
    const int b = nb.begin[g], Jg = nb.begin[g + 1] - b;
    if (Jg == 0) continue;
    for (int l = 0; l < L; ++l)
      contract(Rows<double>{rows + b * rs + l * nMax_, rs}, Jg, Y + static_cast<long>(l * l) * S + b, S, 1, 2 * l + 1,
               NP, R + static_cast<long>(l * l) * NP);
    // c[lm][n] = sum_k coef[l][n][k] R[lm][k]: the beta matrices, once per centre.
    for (int l = 0; l < L; ++l)
      for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
        const double* P = R + lm * NP;
        for (int n = 0; n < nMax_; ++n) {
          const double* cf = &coef_[(l * nMax_ + n) * nMax_];
          double s = 0.0;
          for (int k = 0; k < nMax_; ++k) s += cf[k] * P[k];
          cg[lm * NP + n] = s;
        }
      }
  }
}

std::unique_ptr<CoefficientKernel> makeGtoKernel(const SoapParams& p, const GtoBasis& basis) {
  return std::make_unique<GtoKernel>(p, basis);
}

}  // namespace soapix
