// Power spectrum p_{n n' l} = prefactor[l] * sum_m c1_{nlm} c2_{n'lm} in DScribe 2.1.1's feature
// order and compression modes (docs/CONVENTIONS.md §5).
#pragma once
#include <vector>

#include "soap_params.h"

namespace soapix {

// Number of density groups the coefficient stage produces: one per species, or one pooled group
// for compression "mu2".
int densityGroups(const SoapParams& p);

// c: [group][n][lm] with lm over (lMax+1)^2; writes p.featureCount() values to out.
// `scratch` is resized as needed and can be reused between calls.
void powerSpectrum(const SoapParams& p, const std::vector<double>& prefactor, const double* c, double* out,
                   std::vector<double>& scratch);

}  // namespace soapix
