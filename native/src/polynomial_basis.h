// Polynomial radial basis of DScribe 2.1.1 (docs/CONVENTIONS.md §4): phi_j(r) = (rCut - r)^(j+2),
// orthonormalised with S^-1/2, evaluated on the fixed 100-node Gauss-Legendre grid.
#pragma once
#include <vector>

namespace soapix {

constexpr int kPolyQuadratureNodes = 100;

struct PolynomialBasis {
  int nMax = 0;
  double rCut = 0;
  std::vector<double> betas;  // [n][j], nMax*nMax
  std::vector<double> rx;     // 100 radial nodes r_w = rCut*(x_w+1)/2
  std::vector<double> ws;     // 100 quadrature weights (sum 2), as DScribe's C++ hard-codes them
  std::vector<double> gss;    // [n][w] = g_n(r_w), nMax*100
};

PolynomialBasis makePolynomialBasis(double rCut, int nMax);
// Build rx/gss from user-supplied betas (as DScribe's JSON stores them).
PolynomialBasis polynomialBasisFromBetas(double rCut, int nMax, const std::vector<double>& betas);

}  // namespace soapix
