// Expansion coefficients for DScribe 2.1.1's polynomial radial basis (docs/CONVENTIONS.md §4), computed
// the way DScribe's soapGeneral.cpp does it: numerical radial quadrature on the fixed 100-node grid
// with every quirk of that code kept, because the numbers must equal DScribe's.
//
// For one centre and one density group, with neighbour i at distance r_i (r_i^2 > 1e-12) and grid
// node r_w, DScribe evaluates (getDeltas / getFlir):
//   o      = (0.25 / eta) / r_i / r_w
//   E-     = exp(-eta (r_w - r_i)^2), but 0 when r_w - r_i > 5.0   (hard-coded 5 Angstrom, any sigma)
//   E+     = exp(-eta (r_w + r_i)^2), but 0 when r_w + r_i > 5.0
//   F_0    = o (E- - E+),  F_1 = o (E- + E+ - 2 F_0)
//   F_l    = max(0, F_{l-2} - (4l - 2) o F_{l-1})          (upward recursion, clipped value reused)
// then (getIntegrand / getC)
//   summed[lm][w] = sum_i (w_i F_l(i, w)) Y_lm(d_i / r_i)
//   c[n][lm]      = sum_w ((r_w^2 ws_w) g_n(r_w)) summed[lm][w]
// and an atom on the centre (r^2 <= 1e-12) adds to c[n][00], before the sum above,
//   sum_w w_0 * 0.5 * 0.564189583547756 * r_w^2 * ws_w * g_n(r_w) * exp(-eta r_w^2)      (once per such atom).
// The products are evaluated in DScribe's operation order.
//
// Angular part: DScribe uses complex Y_lm (Condon-Shortley) for m >= 0 and forms
// p = Re c_l0 Re c'_l0 + 2 sum_{m>0} (Re c Re c' + Im c Im c'); that equals sum_m c_lm c'_lm over the
// real orthonormal Y used here. DScribe's table of normalisation factors (soapGeneral.cpp
// factorListSet) agrees with the exact N_lm to 1e-15 wherever it is non-zero, but it holds 0.0 for
// every N_lm below ~1e-9: (l, m) = (10, 10), (11, >=10), (12..14, >=9), (15..20, >=8). Those
// components are therefore missing from DScribe's descriptor, and they are zeroed here too.
//
// Power spectrum (getP): PI * sqrt(8/(2l+1)) * 39.478417604 * rCut^2 * sum, PI = 3.14159265359.
#include <algorithm>
#include <cmath>
#include <string>

#include "coefficients.h"
#include "simd.h"
#include "spherical_harmonics.h"

namespace soapix {
namespace {

constexpr int kW = kPolyQuadratureNodes;

// First m whose factor DScribe's table sets to 0.0, per l (l + 1 = none dropped).
constexpr int kFirstDroppedM[21] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 9, 9, 9, 8, 8, 8, 8, 8, 8};

class PolynomialKernel final : public CoefficientKernel {
 public:
  PolynomialKernel(const SoapParams& p, const PolynomialBasis& basis)
      : nMax_(basis.nMax),
        lMax_(p.lMax),
        L2_((p.lMax + 1) * (p.lMax + 1)),
        NP_(padLanes(basis.nMax)),
        eta_(p.eta()),
        rCut_(basis.rCut),
        harmonics_(p.lMax) {
    if (basis.nMax != p.nMax) throw InvalidArgument("polynomial basis nMax does not match the parameters");
    if (static_cast<int>(basis.rx.size()) != kW || static_cast<int>(basis.ws.size()) != kW ||
        basis.gss.size() != static_cast<size_t>(nMax_) * kW)
      throw InvalidArgument("polynomial basis tables have the wrong size");
    if (lMax_ < 0 || lMax_ > kMaxLMaxPolynomial)
      throw InvalidArgument("lMax must be in [0, " + std::to_string(kMaxLMaxPolynomial) + "] for the polynomial basis");
    oneOnEta_ = 1 / eta_;
    for (int w = 0; w < kW; ++w) {
      rw_[w] = basis.rx[w];
      oOr_[w] = 1.0 / basis.rx[w];
      rw2_[w] = basis.rx[w] * basis.rx[w];
      expSelf_[w] = std::exp(-eta_ * rw2_[w]);
    }
    gss_ = basis.gss;
    ws_ = basis.ws;
    radial_.resize(static_cast<size_t>(nMax_) * kW);
    for (int n = 0; n < nMax_; ++n)
      for (int w = 0; w < kW; ++w) radial_[n * kW + w] = rw2_[w] * ws_[w] * gss_[n * kW + w];
    keep_.assign(L2_, 1.0);
    for (int l = 0; l <= lMax_; ++l)
      for (int m = kFirstDroppedM[l]; m <= l; ++m) {
        keep_[l * l + l + m] = 0.0;
        keep_[l * l + l - m] = 0.0;
      }
    const double rCut2 = rCut_ * rCut_;
    prefactors_.resize(lMax_ + 1);
    for (int l = 0; l <= lMax_; ++l)
      prefactors_[l] = 3.14159265359 * std::sqrt(8.0 / (2.0 * l + 1.0)) * 39.478417604 * rCut2;
  }

  std::vector<double> powerPrefactors() const override { return prefactors_; }

  void compute(const NeighbourList& nb, double* out, Workspace& ws) const override {
    const int G = nb.numGroups();
    const int L = lMax_ + 1;
    // Output c[g][lm][n] (coefficients.h), n padded to NP with zeros.
    std::fill(out, out + static_cast<size_t>(G) * L2_ * NP_, 0.0);
    // Largest group, to size the scratch once.
    int maxCount = 0;
    for (int g = 0; g < G; ++g) maxCount = std::max(maxCount, nb.begin[g + 1] - nb.begin[g]);
    if (maxCount == 0) return;
    const int stride = padVec(maxCount);
    // a: ux, uy, uz, one, r, weight (6 rows) + harmonics (L2 rows), each `stride` long.
    const size_t needA = static_cast<size_t>(6 + L2_) * stride;
    if (ws.a.size() < needA) ws.a.resize(needA);
    const size_t needB = static_cast<size_t>(L2_) * kW;  // summed[lm][w]
    if (ws.b.size() < needB) ws.b.resize(needB);
    const size_t needC = static_cast<size_t>(L + 1) * kW;  // wF[l][w] + o[w]
    if (ws.c.size() < needC) ws.c.resize(needC);
    const size_t needD = static_cast<size_t>(4) * stride;  // SolidHarmonics scratch
    if (ws.d.size() < needD) ws.d.resize(needD);

    double* ux = ws.a.data();
    double* uy = ux + stride;
    double* uz = uy + stride;
    double* one = uz + stride;
    double* rr = one + stride;
    double* wt = rr + stride;
    double* Y = wt + stride;
    double* summed = ws.b.data();
    double* wF = ws.c.data();
    double* o = wF + static_cast<size_t>(L) * kW;

    for (int g = 0; g < G; ++g) {
      const int b = nb.begin[g], e = nb.begin[g + 1];
      if (b == e) continue;
      double* C = out + static_cast<size_t>(g) * L2_ * NP_;

      // Split off the atoms on the centre; the rest go to the quadrature.
      int K = 0;
      for (int j = b; j < e; ++j) {
        const double r2 = nb.r2[j];
        if (r2 <= 1e-12) continue;
        const double r = std::sqrt(r2);
        const double oOri = 1.0 / r;
        ux[K] = nb.dx[j] * oOri;
        uy[K] = nb.dy[j] * oOri;
        uz[K] = nb.dz[j] * oOri;
        one[K] = 1.0;
        rr[K] = r;
        wt[K] = nb.unitWeights ? 1.0 : nb.w[j];
        ++K;
      }

      // Atoms on the centre (getC's "i0 case"), accumulated first as in DScribe.
      for (int j = b; j < e; ++j) {
        if (nb.r2[j] > 1e-12) continue;
        const double w0 = nb.unitWeights ? 1.0 : nb.w[j];
        for (int n = 0; n < nMax_; ++n) {
          const double* gn = &gss_[n * kW];
          double acc = C[n];
          for (int w = 0; w < kW; ++w) acc += w0 * 0.5 * 0.564189583547756 * rw2_[w] * ws_[w] * gn[w] * expSelf_[w];
          C[n] = acc;
        }
      }
      if (K == 0) continue;

      harmonics_.compute(ux, uy, uz, one, K, stride, Y, ws.d.data());
      for (int lm = 0; lm < L2_; ++lm)
        if (keep_[lm] == 0.0)
          std::fill(Y + static_cast<size_t>(lm) * stride, Y + static_cast<size_t>(lm) * stride + K, 0.0);

      std::fill(summed, summed + needB, 0.0);
      const double m4 = 0.25 * oneOnEta_;
      for (int i = 0; i < K; ++i) {
        const double ri = rr[i];
        const double oO4ari = m4 * (1.0 / ri);
        const double wi = wt[i];
        double* F0 = wF;
        double* F1 = wF + kW;
        // F_0, F_1 (stored unweighted for the recursion; weighted copies are made below).
        for (int w = 0; w < kW; ++w) {
          const double ow = oO4ari * oOr_[w];
          o[w] = ow;
          const double rDiff = rw_[w] - ri;
          const double em = rDiff > 5.0 ? 0.0 : std::exp(-eta_ * rDiff * rDiff);
          const double rSum = rw_[w] + ri;
          const double ep = rSum > 5.0 ? 0.0 : std::exp(-eta_ * rSum * rSum);
          const double f0 = ow * (em - ep);
          F0[w] = f0;
          if (lMax_ > 0) F1[w] = ow * (em + ep - 2 * f0);
        }
        for (int l = 2; l <= lMax_; ++l) {
          double* Fl = wF + static_cast<size_t>(l) * kW;
          const double* Fm1 = Fl - kW;
          const double* Fm2 = Fl - 2 * kW;
          const double k = static_cast<double>(4 * l - 2);
          for (int w = 0; w < kW; ++w) {
            const double v = Fm2[w] - o[w] * k * Fm1[w];
            Fl[w] = v < 0 ? 0.0 : v;
          }
        }
        // summed[lm][w] += (w_i F_l) Y_lm, summed over neighbours in input order.
        for (int l = 0; l <= lMax_; ++l) {
          const double* Fl = wF + static_cast<size_t>(l) * kW;
          double wfl[kW];
          for (int w = 0; w < kW; ++w) wfl[w] = wi * Fl[w];
          for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
            const double y = Y[static_cast<size_t>(lm) * stride + i];
            double* s = summed + static_cast<size_t>(lm) * kW;
            for (int w = 0; w < kW; ++w) s[w] += wfl[w] * y;
          }
        }
      }

      for (int n = 0; n < nMax_; ++n) {
        const double* rad = &radial_[n * kW];
        for (int lm = 0; lm < L2_; ++lm) {
          const double* s = summed + static_cast<size_t>(lm) * kW;
          double acc = C[lm * NP_ + n];
          for (int w = 0; w < kW; ++w) acc += rad[w] * s[w];
          C[lm * NP_ + n] = acc;
        }
      }
    }
  }

 private:
  int nMax_, lMax_, L2_, NP_;
  double eta_, oneOnEta_ = 0, rCut_;
  double rw_[kW], oOr_[kW], rw2_[kW], expSelf_[kW];
  std::vector<double> gss_, ws_, radial_, keep_, prefactors_;
  SolidHarmonics harmonics_;
};

}  // namespace

std::unique_ptr<CoefficientKernel> makePolynomialKernel(const SoapParams& p, const PolynomialBasis& basis) {
  return std::make_unique<PolynomialKernel>(p, basis);
}

}  // namespace soapix
