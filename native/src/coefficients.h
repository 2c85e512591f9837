// Expansion coefficients c[g][lm][n] of each density group on the radial x real-spherical-harmonic
// basis, for one centre: harmonic-major, n padded with zeros to NP = padLanes(nMax) (simd.h), the
// layout the power spectrum reads directly. lm = l*l + (m + l) with m = -l..l (real, orthonormal
// Y_lm). Any orthonormal real basis of each l gives the same power spectrum, so the m convention is
// internal.
#pragma once
#include <cstdint>
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
  std::vector<float> fa, fb, fc;
  std::vector<int32_t> idx;
};

class CoefficientKernel {
 public:
  virtual ~CoefficientKernel() = default;
  // out: numGroups * (lMax+1)^2 * NP doubles, overwritten (padding lanes n >= nMax are zero).
  virtual void compute(const NeighbourList& nb, double* out, Workspace& ws) const = 0;
  // True when the kernel has a float32 form (computeF32); otherwise the engine computes in float64
  // and rounds the output.
  virtual bool hasF32() const { return false; }
  // The same coefficients in float32, out: numGroups * (lMax+1)^2 * NP floats. Returns false,
  // computing nothing, for a centre it has no float32 form for (the engine then computes it in
  // float64 and rounds the output). Only called when hasF32().
  virtual bool computeF32(const NeighbourList&, float*, Workspace&) const { return false; }
  // Power-spectrum prefactor of each l (includes the basis' own normalisation constants).
  virtual std::vector<double> powerPrefactors() const = 0;
};

std::unique_ptr<CoefficientKernel> makeGtoKernel(const SoapParams& p, const GtoBasis& basis);
std::unique_ptr<CoefficientKernel> makePolynomialKernel(const SoapParams& p, const PolynomialBasis& basis);

}  // namespace soapix
