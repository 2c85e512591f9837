// The SOAP engine: validates structures, finds neighbours, computes coefficients and power spectra
// for many structures in one call, in parallel with OpenMP. No N-API here.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "centre_neighbours.h"
#include "coefficients.h"
#include "gto_basis.h"
#include "polynomial_basis.h"
#include "soap_params.h"

namespace soapix {

enum class DType { Float64, Float32 };

// Largest coordinate magnitude accepted: keeps squared distances and cell indices exact and finite.
constexpr double kMaxCoordinate = 1e12;

class SoapCalculator {
 public:
  // `gto` / `poly`: a user-supplied basis, or nullptr to compute soapix's own.
  SoapCalculator(const SoapParams& params, const GtoBasis* gto, const PolynomialBasis* poly);

  const SoapParams& params() const { return params_; }
  long long featureCount() const { return params_.featureCount(); }
  const GtoBasis& gtoBasis() const { return gto_; }
  const PolynomialBasis& polynomialBasis() const { return poly_; }

  // Rows of output for a structure (1 when averaging).
  long outputRows(const StructureView& s) const;
  // Throws InvalidArgument / InvalidType naming the structure (by `label`) and the bad value.
  void validate(const StructureView& s, const std::string& label) const;

  // out[i] receives outputRows(s[i]) * featureCount() values (double or float, per dtype).
  // threads <= 0: all available. Throws Cancelled if *cancel becomes true.
  void compute(const std::vector<StructureView>& s, const std::vector<void*>& out, DType dtype, int threads,
               const std::atomic<bool>* cancel) const;

 private:
  SoapParams params_;
  GtoBasis gto_;
  PolynomialBasis poly_;
  std::unique_ptr<CoefficientKernel> kernel_;
  std::vector<double> prefactor_;
};

}  // namespace soapix
