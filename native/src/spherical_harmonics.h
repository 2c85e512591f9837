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
  // member, m < 0 the sin(|m| phi) member. `r2` is x^2+y^2+z^2. The inputs are read and each
  // output row written up to padVec(count) entries (simd.h), so stride >= padVec(count) and the
  // inputs hold zeros (or any finite values) in that padding. `scratch` needs 4*stride values.
  void compute(const double* x, const double* y, const double* z, const double* r2, int count, int stride, double* out,
               double* scratch) const;
  // The same recursion in float32 for unit vectors (spherical_harmonics_f32.cpp), the coefficients
  // rounded once: every value is of order one whatever the distances. For the zero vector (a
  // neighbour on the centre) l = 0 is exact but l >= 2 is not 0; callers multiply by r^l = 0.
  // Padding as for compute(); `scratch` needs 5 * stride values.
  void computeUnitF32(const float* x, const float* y, const float* z, int count, int stride, float* out,
                      float* scratch) const;

 private:
  int lMax_;
  std::vector<double> start_;  // [m]: normalised P_m^m coefficient
  std::vector<double> next_;   // [m]: coefficient of z in P_{m+1}^m
  std::vector<double> a_, b_;  // [l][m]: P_l^m = a z P_{l-1}^m - b r2 P_{l-2}^m
};

}  // namespace soapix
