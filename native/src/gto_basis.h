// GTO radial basis exactly as DScribe 2.1.1 chooses it (docs/CONVENTIONS.md §2), with the Löwdin
// orthonormalisation S^-1/2 computed in extended precision so that the result is closer to the
// exact basis than DScribe's own float64 sqrtm(inv(S)).
#pragma once
#include <vector>

namespace soapix {

struct GtoBasis {
  int nMax = 0;
  int lMax = 0;
  std::vector<double> alphas;  // [l][k], size (lMax+1)*nMax
  std::vector<double> betas;   // [l][n][k], size (lMax+1)*nMax*nMax
};

// alphas from a = linspace(1, rCut, nMax) computed as numpy does, alpha[l,k] = -ln(1e-3 / a_k^l) / a_k^2;
// betas = S^-1/2 per l. Throws InvalidArgument when S is not positive definite to working
// precision (the message names nMax / rCut as the parameters to change).
GtoBasis makeGtoBasis(double rCut, int nMax, int lMax);

// Throws InvalidArgument unless the basis has the right sizes and finite values.
void checkGtoBasis(const GtoBasis& b, int nMax, int lMax);

}  // namespace soapix
