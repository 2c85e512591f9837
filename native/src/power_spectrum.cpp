#include "power_spectrum.h"

#include <algorithm>

#include "contraction.h"
#include "simd.h"

namespace soapix {

int densityGroups(const SoapParams& p) { return p.compression == Compression::Mu2 ? 1 : p.numSpecies(); }

namespace {

// One block of the feature vector: for l: for n: for n' (n' >= n when `triangle`).
// c1: [n][lm] (as the kernels produce it); t2: the second operand harmonic-major, [lm][n'] padded
// to NP, so acc[n][n'] = sum_m c1[n][lm] t2[lm][n'] is one small register-blocked product per l.
double* writeBlock(const SoapParams& p, const std::vector<double>& pref, const double* c1, const double* t2,
                   bool triangle, int NP, double* acc, double* out) {
  const int N = p.nMax, LL = (p.lMax + 1) * (p.lMax + 1);
  for (int l = 0; l <= p.lMax; ++l) {
    contractRows(t2 + static_cast<long>(l * l) * NP, NP, c1 + l * l, LL, 2 * l + 1, N, NP, acc);
    const double f = pref[l];
    for (int n = 0; n < N; ++n)
      for (int np = triangle ? n : 0; np < N; ++np) *out++ = f * acc[n * NP + np];
  }
  return out;
}

}  // namespace

void powerSpectrum(const SoapParams& p, const std::vector<double>& pref, const double* c, double* out,
                   std::vector<double>& scratch) {
  const int S = p.numSpecies(), G = densityGroups(p), N = p.nMax;
  const int LL = (p.lMax + 1) * (p.lMax + 1);
  const int NP = padLanes(N);
  const long groupSize = static_cast<long>(N) * LL, tSize = static_cast<long>(LL) * NP;
  const int tGroups = G + (p.compression == Compression::Mu1Nu1 ? 1 : 0);
  scratch.resize(static_cast<size_t>(tGroups * tSize + N * NP + kLanes));
  double* T = scratch.data();
  double* acc = T + tGroups * tSize;
  // Harmonic-major copies T[g][lm][n] (n padded with zeros to NP).
  std::fill(T, T + tGroups * tSize, 0.0);
  for (int g = 0; g < G; ++g)
    for (int n = 0; n < N; ++n)
      for (int lm = 0; lm < LL; ++lm) T[g * tSize + lm * NP + n] = c[g * groupSize + n * LL + lm];
  switch (p.compression) {
    case Compression::Off:
      for (int a = 0; a < S; ++a)
        for (int b = a; b < S; ++b) out = writeBlock(p, pref, c + a * groupSize, T + b * tSize, a == b, NP, acc, out);
      break;
    case Compression::Crossover:
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, c + a * groupSize, T + a * tSize, true, NP, acc, out);
      break;
    case Compression::Mu2:
      writeBlock(p, pref, c, T, true, NP, acc, out);
      break;
    case Compression::Mu1Nu1: {
      // Each species' density against the total density of all species.
      double* total = T + G * tSize;
      for (int a = 0; a < S; ++a)
        for (long i = 0; i < tSize; ++i) total[i] += T[a * tSize + i];
      for (int a = 0; a < S; ++a) out = writeBlock(p, pref, c + a * groupSize, total, false, NP, acc, out);
      break;
    }
  }
}

}  // namespace soapix
