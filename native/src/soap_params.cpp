#include "soap_params.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace soapix {

double Weighting::weight(double r) const {
  switch (function) {
    case WeightFunction::None: return 1.0;
    case WeightFunction::Poly: {
      if (r > r0) return 0.0;
      const double x = r / r0;
      return c * std::pow(1.0 + 2.0 * x * x * x - 3.0 * x * x, m);
    }
    case WeightFunction::Pow: return c / (d + std::pow(r / r0, m));
    case WeightFunction::Exp: return c / (d + std::exp(-r / r0));
  }
  return 1.0;
}

double SoapParams::cutoffPadding() const { return sigma * std::sqrt(-2.0 * std::log(0.001)); }

int SoapParams::speciesIndex(int z) const {
  auto it = std::lower_bound(species.begin(), species.end(), z);
  if (it == species.end() || *it != z) return -1;
  return static_cast<int>(it - species.begin());
}

long long SoapParams::featureCount() const {
  const long long S = numSpecies(), n = nMax, L = lMax + 1;
  switch (compression) {
    case Compression::Off: return L * (S * n) * (S * n + 1) / 2;
    case Compression::Crossover: return S * L * n * (n + 1) / 2;
    case Compression::Mu2: return L * n * (n + 1) / 2;
    case Compression::Mu1Nu1: return S * L * n * n;
  }
  return 0;
}

std::string formatNumber(double v) {
  if (std::isnan(v)) return "NaN";  // as JavaScript writes them: the messages end up there
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::ostringstream o;
  o << v;
  std::string s = o.str();
  // "1e+06" -> "1e6", "1e-06" -> "1e-6": the exponent without '+' and leading zeros.
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  std::string sign;
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    if (exponent[0] == '-') sign = "-";
    exponent.erase(0, 1);
  }
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  return mantissa + "e" + sign + exponent;
}

void SoapParams::validate() const {
  if (!std::isfinite(rCut) || rCut <= 0)
    throw InvalidArgument("rCut must be a finite number > 0, got " + formatNumber(rCut));
  if (rbf == Rbf::Gto && rCut <= kMinRCutGto)
    throw InvalidArgument("rCut must be > " + formatNumber(kMinRCutGto) +
                          " with the GTO radial basis (DScribe's rule), got " + formatNumber(rCut) +
                          "; use rbf 'polynomial' for smaller cutoffs");
  if (rCut < kMinRCut || rCut > kMaxRCut)
    throw InvalidArgument("rCut must be in [" + formatNumber(kMinRCut) + ", " + formatNumber(kMaxRCut) +
                          "] (the basis integrals underflow or overflow outside), got " + formatNumber(rCut));
  if (nMax < kMinNMax || nMax > kMaxNMax)
    throw InvalidArgument("nMax must be an integer in [" + std::to_string(kMinNMax) + ", " + std::to_string(kMaxNMax) +
                          "], got " + std::to_string(nMax));
  const int lLimit = rbf == Rbf::Gto ? kMaxLMaxGto : kMaxLMaxPolynomial;
  if (lMax < kMinLMax || lMax > lLimit)
    throw InvalidArgument("lMax must be an integer in [" + std::to_string(kMinLMax) + ", " + std::to_string(lLimit) +
                          "] with the " + (rbf == Rbf::Gto ? "GTO" : "polynomial") + " basis, got " +
                          std::to_string(lMax));
  if (!std::isfinite(sigma) || sigma <= 0)
    throw InvalidArgument("sigma must be a finite number > 0, got " + formatNumber(sigma));
  if (sigma < kMinSigma || sigma > kMaxSigma)
    throw InvalidArgument("sigma must be in [" + formatNumber(kMinSigma) + ", " + formatNumber(kMaxSigma) +
                          "] (the Gaussian integrals overflow outside), got " + formatNumber(sigma));
  if (species.empty()) throw InvalidArgument("species must name at least one species");
  for (size_t i = 0; i < species.size(); ++i) {
    if (species[i] < 1 || species[i] > 118)
      throw InvalidArgument("species must be atomic numbers in [1, 118], got " + std::to_string(species[i]));
    if (i > 0 && species[i] <= species[i - 1])
      throw InvalidArgument("species must be ascending and unique atomic numbers");
  }
  if (speciesWeights.size() != species.size()) throw InvalidArgument("speciesWeights must have one entry per species");
  for (size_t i = 0; i < speciesWeights.size(); ++i)
    if (!std::isfinite(speciesWeights[i]))
      throw InvalidArgument("the species weight of atomic number " + std::to_string(species[i]) +
                            " (compression.speciesWeighting) must be a finite number, got " +
                            formatNumber(speciesWeights[i]));
  const Weighting& w = weighting;
  if (w.function != WeightFunction::None) {
    if (!std::isfinite(w.r0) || w.r0 <= 0) throw InvalidArgument("weighting.r0 must be a finite number > 0");
    if (!std::isfinite(w.c)) throw InvalidArgument("weighting.c must be a finite number");
    if (!std::isfinite(w.m)) throw InvalidArgument("weighting.m must be a finite number");
    if (w.function != WeightFunction::Poly && !std::isfinite(w.d))
      throw InvalidArgument("weighting.d must be a finite number");
    // c / (d + (r/r0)^m) and c / (d + e^(-r/r0)) must not have a pole at any r >= 0.
    if (w.function == WeightFunction::Pow && !(w.d > 0))
      throw InvalidArgument("weighting.d must be > 0 with function 'pow' (d <= 0 gives an infinite weight), got " +
                            formatNumber(w.d));
    if (w.function == WeightFunction::Exp && !(w.d >= 0))
      throw InvalidArgument("weighting.d must be >= 0 with function 'exp' (d < 0 gives an infinite weight), got " +
                            formatNumber(w.d));
  }
  if (w.hasW0 && !std::isfinite(w.w0)) throw InvalidArgument("weighting.w0 must be a finite number");
  // A feature vector this long cannot be a sensible request; it also guards size arithmetic.
  if (featureCount() > (1LL << 28))
    throw InvalidArgument("this parameter set gives " + std::to_string(featureCount()) +
                          " features per centre; reduce nMax, lMax or the number of species");
}

std::vector<FeatureLabel> featureLabels(const SoapParams& p) {
  std::vector<FeatureLabel> out;
  out.reserve(static_cast<size_t>(p.featureCount()));
  const int S = p.numSpecies(), N = p.nMax;
  auto block = [&](int z1, int z2, bool triangle) {
    for (int l = 0; l <= p.lMax; ++l)
      for (int n = 0; n < N; ++n)
        for (int np = triangle ? n : 0; np < N; ++np) out.push_back({z1, z2, l, n, np});
  };
  switch (p.compression) {
    case Compression::Off:
      for (int a = 0; a < S; ++a)
        for (int b = a; b < S; ++b) block(p.species[a], p.species[b], a == b);
      break;
    case Compression::Crossover:
      for (int a = 0; a < S; ++a) block(p.species[a], p.species[a], true);
      break;
    case Compression::Mu2:
      block(0, 0, true);  // all species pooled into one density
      break;
    case Compression::Mu1Nu1:
      for (int a = 0; a < S; ++a) block(p.species[a], 0, false);
      break;
  }
  return out;
}

}  // namespace soapix
