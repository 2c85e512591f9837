// The GTO coefficient kernel (docs/CONVENTIONS.md §3). For one centre,
//   c_nlm = sum_j G_nl(r_j^2) w_j r_j^l Y_lm(d_j),   G_nl(r^2) = sum_k coef[l][n][k] e^{aOa[l][k] r^2},
// is, for each l, a small matrix product (neighbours x radial functions) x (neighbours x harmonics)
// (contraction.h). On integer grids (MNIST pixels with integer heights) squared distances are
// integers, so G_nl comes straight from a table built once per Soap: no exp() and no beta matrices
// per centre, and the kernel reads the table rows in place. Elsewhere the primitive exponentials
// are computed per neighbour and the beta matrices are applied once per centre.
//
// float64: gto_coefficients.cpp. float32 (gto_coefficients_f32.cpp): the table holds
// G_nl(r^2) r^l, computed in float64 and rounded once, and the harmonics are those of the unit
// vector, so every float32 value is of order one. Off-grid centres have no float32 form (the beta
// matrices cancel too strongly for float32 sums of primitive exponentials): the engine computes
// them in float64 and rounds the output.
#pragma once
#include <mutex>
#include <vector>

#include "coefficients.h"
#include "spherical_harmonics.h"

namespace soapix {

class GtoKernel final : public CoefficientKernel {
 public:
  GtoKernel(const SoapParams& p, const GtoBasis& basis);
  std::vector<double> powerPrefactors() const override;
  void compute(const NeighbourList& nb, double* out, Workspace& ws) const override;
  bool hasF32() const override { return true; }
  bool computeF32(const NeighbourList& nb, float* out, Workspace& ws) const override;

 private:
  // Every squared distance is an integer within the table.
  bool onTable(const NeighbourList& nb) const;
  // table[r2][l][n] = G_nl(r2) for every integer r2 in [0, tableMax] (n padded to NP with zeros),
  // built on first use.
  const double* radialTable() const;
  // tableF32[r2][l][n] = G_nl(r2) r^l, rounded to float32, built on first use.
  const float* radialTableF32() const;
  void offGrid(const NeighbourList& nb, const double* Y, int S, double* out, Workspace& ws) const;

  int nMax_, lMax_, NP_;
  SolidHarmonics harmonics_;
  std::vector<double> aOa_, coef_;
  std::vector<double> aOaPacked_;  // aOa as [l * nMax + k], zero-padded to a multiple of 8
  long long tableMax_;
  mutable std::once_flag tableOnce_, tableF32Once_;
  mutable std::vector<double> table_;
  mutable std::vector<float> tableF32_;
};

}  // namespace soapix
