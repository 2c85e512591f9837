// Real, orthonormal solid harmonics r^l Y_lm(x, y, z) for l = 0..lMax, evaluated for a batch of
// displacement vectors at once (structure-of-arrays, so the loops over points vectorise).
#pragma once
#include <vector>

namespace soapix {

class SolidHarmonics {
 public:
  explicit SolidHarmonics(int lMax);
  int lMax() const { return lMax_; }
  // out[lm * stride + j] = r_j^l Y_lm(x_j, y_j, z_j), lm = l*l + (m + l); m > 0 is the cos(m phi)
  // member, m < 0 the sin(|m| phi) member. `r2` is x^2+y^2+z^2. count <= stride.
  // `scratch` needs 4*stride doubles.
  void compute(const double* x, const double* y, const double* z, const double* r2, int count, int stride,
               double* out, double* scratch) const;

 private:
  int lMax_;
  std::vector<double> start_;  // [m]: normalised P_m^m coefficient
  std::vector<double> next_;   // [m]: coefficient of z in P_{m+1}^m
  std::vector<double> a_, b_;  // [l][m]: P_l^m = a z P_{l-1}^m - b r2 P_{l-2}^m
};

}  // namespace soapix
