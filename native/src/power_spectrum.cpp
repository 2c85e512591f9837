// Power spectrum from the coefficients c[g][lm][n] (power_spectrum.h). For one pair of density
// groups and one l, acc[n][n'] = sum_m c1[lm][n] c2[lm][n'] is a small register-blocked product
// (contraction.h; for nMax <= 8 all l at once, power_spectrum_n8.cpp) reading both operands in
// place; the feature vector takes, for each l, the entries (n, n') (n' >= n within one group) times
// prefactor[l].
#include "power_spectrum.h"

#include <algorithm>

#include "contraction.h"
#include "power_spectrum_n8.h"
#include "simd.h"

namespace soapix {

int densityGroups(const SoapParams& p) { return p.compression == Compression::Mu2 ? 1 : p.numSpecies(); }

namespace {

// One block of the feature vector: for l: for n: for n' (n' >= n when `triangle`).
template <class T>
T* writeBlock(const SoapParams& p, const std::vector<double>& pref, const T* c1, const T* c2, bool triangle, int NP,
              T* acc, T* out) {
  const int N = p.nMax;
  if (NP == 8)
    if (T* end = powerBlockN8(N, p.lMax, pref.data(), c1, c2, triangle, out)) return end;
  for (int l = 0; l <= p.lMax; ++l) {
    const long o = static_cast<long>(l * l) * NP;
    // acc[n * NP + n'] = sum_m c2[l*l + m][n'] * c1[l*l + m][n]
    contract(Rows<T>{c2 + o, NP}, 2 * l + 1, c1 + o, 1, NP, N, NP, acc);
    const T f = static_cast<T>(pref[l]);
    for (int n = 0; n < N; ++n) {
      const T* __restrict a = acc + n * NP;
      T* __restrict o = out;
      const int first = triangle ? n : 0;
      for (int np = first; np < N; ++np) o[np - first] = f * a[np];
      out += N - first;
    }
  }
  return out;
}

template <class T>
void powerSpectrumT(const SoapParams& p, const std::vector<double>& pref, const T* c, T* out, std::vector<T>& scratch) {
  const int S = p.numSpecies(), G = densityGroups(p);
  const int LL = (p.lMax + 1) * (p.lMax + 1);
  const int NP = padLanes(p.nMax);
  const long groupSize = static_cast<long>(LL) * NP;
  const bool total = p.compression == Compression::Mu1Nu1;
  scratch.resize(static_cast<size_t>(p.nMax) * NP + (total ? groupSize : 0));
  T* acc = scratch.data();
  switch (p.compression) {
    case Compression::Off:
      for (int a = 0; a < S; ++a)
        for (int b = a; b < S; ++b)
          out = writeBlock(p, pref, c + a * groupSize, c + b * groupSize, a == b, NP, acc, out);
      break;
    case Compression::Crossover:
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, c + a * groupSize, c + a * groupSize, true, NP, acc, out);
      break;
    case Compression::Mu2: writeBlock(p, pref, c, c, true, NP, acc, out); break;
    case Compression::Mu1Nu1: {
      // Each species' density against the total density of all species.
      T* sum = acc + static_cast<long>(p.nMax) * NP;
      std::fill(sum, sum + groupSize, T(0));
      for (int a = 0; a < G; ++a)
        for (long i = 0; i < groupSize; ++i) sum[i] += c[a * groupSize + i];
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, c + a * groupSize, sum, false, NP, acc, out);
      break;
    }
  }
}

}  // namespace

void powerSpectrum(const SoapParams& p, const std::vector<double>& pref, const double* c, double* out,
                   std::vector<double>& scratch) {
  powerSpectrumT<double>(p, pref, c, out, scratch);
}
void powerSpectrum(const SoapParams& p, const std::vector<double>& pref, const float* c, float* out,
                   std::vector<float>& scratch) {
  powerSpectrumT<float>(p, pref, c, out, scratch);
}

}  // namespace soapix
