// Expansion coefficients c[g][n][lm] of each density group on the radial x real-spherical-harmonic
// basis, for one centre. lm = l*l + (m + l) with m = -l..l (real, orthonormal Y_lm). Any orthonormal
// real basis of each l gives the same power spectrum, so the m convention is internal.
#pragma once
#include <memory>
#include <vector>

#include "gto_basis.h"
#include "neighbour_list.h"
#include "polynomial_basis.h"
#include "soap_params.h"

namespace soapix {

// Per-thread scratch memory, reused across centres so the hot loop never allocates.
struct Workspace {
  std::vector<double> a, b, c, d;
};

class CoefficientKernel {
 public:
  virtual ~CoefficientKernel() = default;
  // out: numGroups * nMax * (lMax+1)^2 doubles, overwritten.
  virtual void compute(const NeighbourList& nb, double* out, Workspace& ws) const = 0;
  // Power-spectrum prefactor of each l (includes the basis' own normalisation constants).
  virtual std::vector<double> powerPrefactors() const = 0;
};

std::unique_ptr<CoefficientKernel> makeGtoKernel(const SoapParams& p, const GtoBasis& basis);
std::unique_ptr<CoefficientKernel> makePolynomialKernel(const SoapParams& p, const PolynomialBasis& basis);

}  // namespace soapix
