// Power spectrum p_{n n' l} = prefactor[l] * sum_m c1_{lm n} c2_{lm n'} in DScribe 2.1.1's feature
// order and compression modes (docs/CONVENTIONS.md §5), in float64 or float32.
#pragma once
#include <vector>

#include "soap_params.h"

namespace soapix {

// Number of density groups the coefficient stage produces: one per species, or one pooled group
// for compression "mu2".
int densityGroups(const SoapParams& p);

// c: [group][lm][n], n padded to padLanes(nMax) with zeros (coefficients.h); writes
// p.featureCount() values to out. `scratch` is resized as needed and can be reused between calls.
void powerSpectrum(const SoapParams& p, const std::vector<double>& prefactor, const double* c, double* out,
                   std::vector<double>& scratch);
void powerSpectrum(const SoapParams& p, const std::vector<double>& prefactor, const float* c, float* out,
                   std::vector<float>& scratch);

}  // namespace soapix
