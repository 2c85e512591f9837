#include "power_spectrum.h"

namespace soapix {

int densityGroups(const SoapParams& p) { return p.compression == Compression::Mu2 ? 1 : p.numSpecies(); }

namespace {

// One block of the feature vector: for l: for n: for n' (n' >= n when `triangle`).
double* writeBlock(const SoapParams& p, const std::vector<double>& pref, const double* c1, const double* c2,
                   bool triangle, double* out) {
  const int N = p.nMax, LL = (p.lMax + 1) * (p.lMax + 1);
  for (int l = 0; l <= p.lMax; ++l) {
    const int m0 = l * l, m1 = m0 + 2 * l + 1;
    for (int n = 0; n < N; ++n) {
      const double* a = c1 + n * LL;
      for (int np = triangle ? n : 0; np < N; ++np) {
        const double* b = c2 + np * LL;
        double s = 0.0;
        for (int m = m0; m < m1; ++m) s += a[m] * b[m];
        *out++ = pref[l] * s;
      }
    }
  }
  return out;
}

}  // namespace

void powerSpectrum(const SoapParams& p, const std::vector<double>& pref, const double* c, double* out,
                   double* scratch) {
  const int S = p.numSpecies();
  const long groupSize = static_cast<long>(p.nMax) * (p.lMax + 1) * (p.lMax + 1);
  switch (p.compression) {
    case Compression::Off:
      for (int a = 0; a < S; ++a)
        for (int b = a; b < S; ++b) out = writeBlock(p, pref, c + a * groupSize, c + b * groupSize, a == b, out);
      break;
    case Compression::Crossover:
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, c + a * groupSize, c + a * groupSize, true, out);
      break;
    case Compression::Mu2:
      writeBlock(p, pref, c, c, true, out);
      break;
    case Compression::Mu1Nu1: {
      // Each species' density against the total density of all species.
      for (long i = 0; i < groupSize; ++i) {
        double s = 0.0;
        for (int a = 0; a < S; ++a) s += c[a * groupSize + i];
        scratch[i] = s;
      }
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, c + a * groupSize, scratch, false, out);
      break;
    }
  }
}

}  // namespace soapix
