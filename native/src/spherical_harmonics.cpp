#include "spherical_harmonics.h"

#include <cmath>

#include "harmonics_recursion.h"
#include "simd.h"

namespace soapix {

// Real solid harmonics are built as  r^l Y_lm = Pbar_l^m(z, r^2) * Re/Im (x + i y)^m, where Pbar is
// the normalised polynomial part. Folding the normalisation into the recursion keeps every
// intermediate value of order one, so no large factorials appear even at l = 20.
SolidHarmonics::SolidHarmonics(int lMax) : lMax_(lMax) {
  const int L = lMax + 1;
  start_.assign(L, 0.0);
  next_.assign(L, 0.0);
  a_.assign(L * L, 0.0);
  b_.assign(L * L, 0.0);
  const long double fourPi = 4.0L * 3.141592653589793238462643383279502884L;
  long double dfOverSqrtFact = 1.0L;  // (2m-1)!! / sqrt((2m)!)
  for (int m = 0; m <= lMax; ++m) {
    if (m > 0) dfOverSqrtFact *= std::sqrt((2.0L * m - 1.0L) / (2.0L * m));
    const long double cm = m > 0 ? std::sqrt(2.0L) : 1.0L;
    start_[m] = static_cast<double>(cm * std::sqrt((2.0L * m + 1.0L) / fourPi) * dfOverSqrtFact);
    next_[m] = static_cast<double>(std::sqrt(2.0L * m + 3.0L));
    for (int l = m + 2; l <= lMax; ++l) {
      const long double lm = l - m, lp = l + m;
      a_[l * L + m] =
          static_cast<double>((2.0L * l - 1.0L) / lm * std::sqrt((2.0L * l + 1.0L) / (2.0L * l - 1.0L) * lm / lp));
      b_[l * L + m] = static_cast<double>(
          (lp - 1.0L) / lm * std::sqrt((2.0L * l + 1.0L) / (2.0L * l - 3.0L) * lm * (lm - 1.0L) / (lp * (lp - 1.0L))));
    }
  }
}

namespace {

using Coefficients = HarmonicsCoefficients;
using HarmonicsFn = void (*)(const Coefficients&, const double*, const double*, const double*, const double*, int, int,
                             double*, double*);

#if defined(__x86_64__) && defined(__GNUC__)
SOAPIX_TARGET_AVX512 void harmonicsAvx512(const Coefficients& k, const double* x, const double* y, const double* z,
                                          const double* r2, int count, int stride, double* out, double*) {
  harmonicsChunks<Avx512OpsD, 2>(k, x, y, z, r2, count, stride, out);
}
SOAPIX_TARGET_AVX2 void harmonicsAvx2(const Coefficients& k, const double* x, const double* y, const double* z,
                                      const double* r2, int count, int stride, double* out, double*) {
  harmonicsChunks<Avx2OpsD, 2>(k, x, y, z, r2, count, stride, out);
}
#endif
void harmonicsBaseline(const Coefficients& k, const double* x, const double* y, const double* z, const double* r2,
                       int count, int stride, double* out, double* scratch) {
  harmonicsArrays<double>(k, x, y, z, r2, count, stride, out, scratch);
}
const HarmonicsFn kHarmonics =
#if defined(__x86_64__) && defined(__GNUC__)
    cpuHasAvx512() ? harmonicsAvx512
    : cpuHasAvx2() ? harmonicsAvx2
                   :
#endif
                   harmonicsBaseline;

}  // namespace

void SolidHarmonics::compute(const double* x, const double* y, const double* z, const double* r2, int count, int stride,
                             double* out, double* scratch) const {
  const Coefficients k{lMax_, start_.data(), next_.data(), a_.data(), b_.data()};
  kHarmonics(k, x, y, z, r2, count, stride, out, scratch);
}

}  // namespace soapix
