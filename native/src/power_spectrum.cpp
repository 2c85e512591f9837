// Power spectrum from the coefficients c[g][lm][n] (power_spectrum.h). For one pair of density
// groups and one l, acc[n][n'] = sum_m c1[lm][n] c2[lm][n'] is a small register-blocked product
// (contraction.h) reading both operands in place; the feature vector takes, for each l, the
// entries (n, n') (n' >= n within one group) times prefactor[l].
#include "power_spectrum.h"

#include <algorithm>

#include "contraction.h"
#include "simd.h"

namespace soapix {

int densityGroups(const SoapParams& p) { return p.compression == Compression::Mu2 ? 1 : p.numSpecies(); }

namespace {

// One block of the feature vector: for l: for n: for n' (n' >= n when `triangle`).
// c1 is read as c1[lm * c1m + n * c1n]: in place (c1m = NP, c1n = 1), or a transposed copy [n][lm]
// (c1m = 1, c1n = LL), which lets the float32 kernels pair two m per register (contraction_f32.cpp).
template <class T>
T* writeBlock(const SoapParams& p, const std::vector<double>& pref, const T* c1, long c1m, long c1n, const T* c2,
              bool triangle, int NP, T* acc, T* out) {
  const int N = p.nMax;
  for (int l = 0; l <= p.lMax; ++l) {
    const long o = static_cast<long>(l * l) * NP;
    // acc[n * NP + n'] = sum_m c2[l*l + m][n'] * c1[l*l + m][n]
    contract(Rows<T>{c2 + o, NP}, 2 * l + 1, c1 + l * l * c1m, c1n, c1m, N, NP, acc);
    const T f = static_cast<T>(pref[l]);
    for (int n = 0; n < N; ++n)
      for (int np = triangle ? n : 0; np < N; ++np) *out++ = f * acc[n * NP + np];
  }
  return out;
}

template <class T>
void powerSpectrumT(const SoapParams& p, const std::vector<double>& pref, const T* c, T* out, std::vector<T>& scratch) {
  const int S = p.numSpecies(), G = densityGroups(p), N = p.nMax;
  const int LL = (p.lMax + 1) * (p.lMax + 1);
  const int NP = padLanes(N);
  const long groupSize = static_cast<long>(LL) * NP;
  const bool total = p.compression == Compression::Mu1Nu1;
  // float32: first operands transposed to [n][lm] (see writeBlock); float64 reads them in place.
  const bool transposed = sizeof(T) == 4;
  const long tSize = static_cast<long>(N) * LL;
  scratch.resize(static_cast<size_t>(N) * NP + (total ? groupSize : 0) + (transposed ? G * tSize : 0));
  T* acc = scratch.data();
  T* sum = acc + static_cast<long>(N) * NP;
  T* cT = sum + (total ? groupSize : 0);
  if (transposed)
    for (int g = 0; g < G; ++g)
      for (int lm = 0; lm < LL; ++lm)
        for (int n = 0; n < N; ++n) cT[g * tSize + n * LL + lm] = c[g * groupSize + lm * NP + n];
  const long c1m = transposed ? 1 : NP, c1n = transposed ? LL : 1;
  auto first = [&](int a) { return transposed ? cT + a * tSize : c + a * groupSize; };
  switch (p.compression) {
    case Compression::Off:
      for (int a = 0; a < S; ++a)
        for (int b = a; b < S; ++b)
          out = writeBlock(p, pref, first(a), c1m, c1n, c + b * groupSize, a == b, NP, acc, out);
      break;
    case Compression::Crossover:
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, first(a), c1m, c1n, c + a * groupSize, true, NP, acc, out);
      break;
    case Compression::Mu2:
      writeBlock(p, pref, first(0), c1m, c1n, c, true, NP, acc, out);
      break;
    case Compression::Mu1Nu1: {
      // Each species' density against the total density of all species.
      std::fill(sum, sum + groupSize, T(0));
      for (int a = 0; a < G; ++a)
        for (long i = 0; i < groupSize; ++i) sum[i] += c[a * groupSize + i];
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, first(a), c1m, c1n, sum, false, NP, acc, out);
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
