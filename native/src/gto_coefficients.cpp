// GTO expansion coefficients (CONVENTIONS.md §3), organised for speed:
//   c_nlm = sum_k coef[l][n][k] * P[l][k][m],   P[l][k][m] = sum_j e^{aOa[l][k] r_j^2} w_j r_j^l Y_lm(d_j)
// The sum over neighbours j is a small matrix product per l (radial rows x harmonic rows), done
// with register-blocked vector dot products; the beta matrices are applied once per centre, not
// once per neighbour. On integer grids (MNIST pixels with integer heights) squared distances are
// integers, so the radial exponentials come from a table instead of exp().
#include <algorithm>
#include <cmath>
#include <mutex>

#include "coefficients.h"
#include "simd.h"
#include "spherical_harmonics.h"

namespace soapix {
namespace {

constexpr long long kMaxRadialTableBytes = 64LL << 20;

// res[a*MB + b] = dot(E row a, Y row b) over nvec vectors of W doubles; rows are `stride` apart.
// The accumulators stay in registers: KB*MB of them plus KB + 1 operands.
template <class V, int W, int KB, int MB>
SOAPIX_INLINE void dotBlock(const double* e, const double* y, long stride, int nvec, double* res) {
  V acc[KB][MB];
  for (int a = 0; a < KB; ++a)
    for (int b = 0; b < MB; ++b) acc[a][b] = V{};
  for (int v = 0; v < nvec; ++v) {
    const int o = v * W;
    V ev[KB];
    for (int a = 0; a < KB; ++a) ev[a] = loadv<V>(e + a * stride + o);
    for (int b = 0; b < MB; ++b) {
      const V yv = loadv<V>(y + b * stride + o);
      for (int a = 0; a < KB; ++a) acc[a][b] += ev[a] * yv;
    }
  }
  for (int a = 0; a < KB; ++a)
    for (int b = 0; b < MB; ++b) res[a * MB + b] = hsumv<V, W>(acc[a][b]);
}

template <class V, int W, int KB>
SOAPIX_INLINE void dotRows(const double* e, const double* y, long stride, int mb, int nvec, double* res) {
  switch (mb) {
    case 4: dotBlock<V, W, KB, 4>(e, y, stride, nvec, res); break;
    case 3: dotBlock<V, W, KB, 3>(e, y, stride, nvec, res); break;
    case 2: dotBlock<V, W, KB, 2>(e, y, stride, nvec, res); break;
    default: dotBlock<V, W, KB, 1>(e, y, stride, nvec, res); break;
  }
}

// P[k][m] for one l and one group: E rows (nMax, starting at the group's offset) against the
// 2l+1 harmonic rows of that l. MB: harmonic rows per register block (4 with 32 registers, 2 with 16).
template <class V, int W, int MB>
SOAPIX_INLINE void radialHarmonicProductsT(const double* E, const double* Y, int stride, int offset, int nLanes,
                                           int nMax, int l, double* P) {
  const int M = 2 * l + 1;
  const int nvec = nLanes / W;
  double res[16];
  for (int k0 = 0; k0 < nMax; k0 += 4) {
    const int kb = std::min(4, nMax - k0);
    const double* e = E + static_cast<long>(l * nMax + k0) * stride + offset;
    for (int m0 = 0; m0 < M; m0 += MB) {
      const int mb = std::min(MB, M - m0);
      const double* y = Y + static_cast<long>(l * l + m0) * stride + offset;
      switch (kb) {
        case 4: dotRows<V, W, 4>(e, y, stride, mb, nvec, res); break;
        case 3: dotRows<V, W, 3>(e, y, stride, mb, nvec, res); break;
        case 2: dotRows<V, W, 2>(e, y, stride, mb, nvec, res); break;
        default: dotRows<V, W, 1>(e, y, stride, mb, nvec, res); break;
      }
      for (int a = 0; a < kb; ++a)
        for (int b = 0; b < mb; ++b) P[(k0 + a) * M + m0 + b] = res[a * mb + b];
    }
  }
}

// E[lk][j] = table[lk][r2_j] * w_j: one row of the table per (l, k), gathered by squared distance.
SOAPIX_INLINE void fillRadialImpl(const double* table, long T, int LK, const double* r2, const double* w, int S,
                                  double* E, int* idx) {
  for (int j = 0; j < S; ++j) idx[j] = static_cast<int>(r2[j]);
  for (int lk = 0; lk < LK; ++lk) {
    const double* row = table + lk * T;
    double* e = E + static_cast<long>(lk) * S;
#pragma omp simd
    for (int j = 0; j < S; ++j) e[j] = row[idx[j]] * w[j];
  }
}
using FillFn = void (*)(const double*, long, int, const double*, const double*, int, double*, int*);
SOAPIX_TARGET_AVX512 void fillAvx512(const double* t, long T, int LK, const double* r2, const double* w, int S,
                                     double* E, int* idx) {
  fillRadialImpl(t, T, LK, r2, w, S, E, idx);
}
SOAPIX_TARGET_AVX2 void fillAvx2(const double* t, long T, int LK, const double* r2, const double* w, int S, double* E,
                                 int* idx) {
  fillRadialImpl(t, T, LK, r2, w, S, E, idx);
}
void fillBaseline(const double* t, long T, int LK, const double* r2, const double* w, int S, double* E, int* idx) {
  fillRadialImpl(t, T, LK, r2, w, S, E, idx);
}
const FillFn kFill = cpuHasAvx512() ? fillAvx512 : cpuHasAvx2() ? fillAvx2 : fillBaseline;
thread_local std::vector<int> tIndex;
void fillRadialFromTable(const double* t, long T, int LK, const double* r2, const double* w, int S, double* E) {
  tIndex.resize(S);
  kFill(t, T, LK, r2, w, S, E, tIndex.data());
}

// One entry point per instruction set; the kernel picks one when it is built.
using ProductsFn = void (*)(const double*, const double*, int, int, int, int, int, double*);
SOAPIX_TARGET_AVX512 void productsAvx512(const double* E, const double* Y, int stride, int offset, int nLanes,
                                         int nMax, int l, double* P) {
  radialHarmonicProductsT<v8d, 8, 4>(E, Y, stride, offset, nLanes, nMax, l, P);
}
SOAPIX_TARGET_AVX2 void productsAvx2(const double* E, const double* Y, int stride, int offset, int nLanes,
                                     int nMax, int l, double* P) {
  radialHarmonicProductsT<v4d, 4, 2>(E, Y, stride, offset, nLanes, nMax, l, P);
}
void productsBaseline(const double* E, const double* Y, int stride, int offset, int nLanes, int nMax, int l,
                      double* P) {
  radialHarmonicProductsT<v2d, 2, 2>(E, Y, stride, offset, nLanes, nMax, l, P);
}
ProductsFn pickProducts() {
  if (cpuHasAvx512()) return productsAvx512;
  if (cpuHasAvx2()) return productsAvx2;
  return productsBaseline;
}

class GtoKernel final : public CoefficientKernel {
 public:
  GtoKernel(const SoapParams& p, const GtoBasis& basis)
      : nMax_(p.nMax), lMax_(p.lMax), harmonics_(p.lMax), products_(pickProducts()) {
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
    if ((tableMax_ + 1) * L * nMax_ * 8 > kMaxRadialTableBytes) tableMax_ = -1;
  }

  std::vector<double> powerPrefactors() const override {
    std::vector<double> f(lMax_ + 1);
    for (int l = 0; l <= lMax_; ++l) f[l] = M_PI * std::sqrt(8.0 / (2.0 * l + 1.0));
    return f;
  }

  void compute(const NeighbourList& nb, double* out, Workspace& ws) const override {
    const int G = nb.numGroups();
    const int L = lMax_ + 1, LL = L * L, LK = L * nMax_;
    // Padded layout: every group starts at a multiple of kLanes; padding entries have weight 0.
    int stride = 0;
    groupOffset_.resize(G + 1);
    for (int g = 0; g < G; ++g) {
      groupOffset_[g] = stride;
      stride += padLanes(nb.begin[g + 1] - nb.begin[g]);
    }
    groupOffset_[G] = stride;
    const int S = std::max(stride, kLanes);
    ws.a.assign(5 * S, 0.0);
    double *x = ws.a.data(), *y = x + S, *z = y + S, *r2 = z + S, *w = r2 + S;
    bool integral = tableMax_ >= 0;
    for (int g = 0; g < G; ++g) {
      int o = groupOffset_[g];
      for (int i = nb.begin[g]; i < nb.begin[g + 1]; ++i, ++o) {
        x[o] = nb.dx[i];
        y[o] = nb.dy[i];
        z[o] = nb.dz[i];
        r2[o] = nb.r2[i];
        w[o] = nb.w[i];
        integral = integral && r2[o] <= static_cast<double>(tableMax_) && r2[o] == std::floor(r2[o]);
      }
    }
    ws.b.resize(static_cast<size_t>(LL + 4) * S);
    double* Y = ws.b.data();
    harmonics_.compute(x, y, z, r2, S, S, Y, Y + static_cast<size_t>(LL) * S);
    ws.c.resize(static_cast<size_t>(LK) * S);
    double* E = ws.c.data();
    if (integral) {
      fillRadialFromTable(radialTable(), tableMax_ + 1, LK, r2, w, S, E);
    } else {
      for (int lk = 0; lk < LK; ++lk) {
        const double a = aOa_[lk];
        double* e = E + static_cast<long>(lk) * S;
        for (int j = 0; j < S; ++j) e[j] = w[j] == 0.0 ? 0.0 : std::exp(a * r2[j]) * w[j];
      }
    }
    ws.d.resize(static_cast<size_t>(nMax_) * (2 * lMax_ + 1));
    double* P = ws.d.data();
    for (int g = 0; g < G; ++g) {
      double* cg = out + static_cast<long>(g) * nMax_ * LL;
      const int nvec = (groupOffset_[g + 1] - groupOffset_[g]) / kLanes;
      for (int l = 0; l < L; ++l) {
        const int M = 2 * l + 1;
        if (nvec == 0) {
          for (int n = 0; n < nMax_; ++n)
            for (int m = 0; m < M; ++m) cg[n * LL + l * l + m] = 0.0;
          continue;
        }
        products_(E, Y, S, groupOffset_[g], nvec * kLanes, nMax_, l, P);
        for (int n = 0; n < nMax_; ++n) {
          const double* cf = &coef_[(l * nMax_ + n) * nMax_];
          for (int m = 0; m < M; ++m) {
            double s = 0.0;
            for (int k = 0; k < nMax_; ++k) s += cf[k] * P[k * M + m];
            cg[n * LL + l * l + m] = s;
          }
        }
      }
    }
  }

 private:
  // table[lk][r2] = exp(aOa[lk] * r2) for every integer r2 in [0, tableMax], built on first use.
  const double* radialTable() const {
    std::call_once(tableOnce_, [this] {
      const int LK = (lMax_ + 1) * nMax_;
      const long long T = tableMax_ + 1;
      table_.resize(static_cast<size_t>(T) * LK);
      for (int lk = 0; lk < LK; ++lk)
        for (long long r = 0; r < T; ++r) table_[lk * T + r] = std::exp(aOa_[lk] * static_cast<double>(r));
    });
    return table_.data();
  }

  int nMax_, lMax_;
  SolidHarmonics harmonics_;
  ProductsFn products_;
  std::vector<double> aOa_, coef_;
  long long tableMax_;
  mutable std::once_flag tableOnce_;
  mutable std::vector<double> table_;
  static thread_local std::vector<int> groupOffset_;
};

thread_local std::vector<int> GtoKernel::groupOffset_;

}  // namespace

std::unique_ptr<CoefficientKernel> makeGtoKernel(const SoapParams& p, const GtoBasis& basis) {
  return std::make_unique<GtoKernel>(p, basis);
}

}  // namespace soapix
