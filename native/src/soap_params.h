// Parameters of a SOAP descriptor, with DScribe 2.1.1's meaning and validation rules.
// Pure C++: no N-API here. Validation errors are thrown as soapix::InvalidArgument (the binding
// turns them into JavaScript RangeError / TypeError).
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace soapix {

// Thrown for a bad parameter or input; `what()` says what was wrong and what is allowed.
struct InvalidArgument : std::invalid_argument {
  explicit InvalidArgument(const std::string& msg) : std::invalid_argument(msg) {}
};
// Thrown for a wrong input type or shape (JavaScript TypeError).
struct InvalidType : std::invalid_argument {
  explicit InvalidType(const std::string& msg) : std::invalid_argument(msg) {}
};
// Thrown when a computation is cancelled through its cancel flag.
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("SOAP computation was cancelled") {}
};

enum class Rbf { Gto, Polynomial };
enum class Compression { Off, Crossover, Mu2, Mu1Nu1 };
enum class Average { Off, Inner, Outer };
enum class WeightFunction { None, Poly, Pow, Exp };

// The limits of the parameters: the one place they are written. validate() enforces them, and the
// addon exports them (binding.cpp) so that the TypeScript layer and the CLI read them from here.
constexpr int kMinLMax = 0;
constexpr int kMaxLMaxGto = 19;         // DScribe 2.1.1: GTO lmax <= 19
constexpr int kMaxLMaxPolynomial = 20;  // DScribe 2.1.1: polynomial lmax <= 20
constexpr int kMinNMax = 1;
constexpr int kMaxNMax = 64;                       // beyond this the basis cannot be orthonormalised anyway
constexpr double kMinRCutGto = 1.0;                // DScribe 2.1.1: GTO needs rCut > 1 (exclusive)
constexpr double kMinRCut = 1e-3, kMaxRCut = 1e6;  // beyond these the basis integrals under/overflow
constexpr double kMinSigma = 1e-6, kMaxSigma = 1e6;

// Radial weighting of neighbour densities (DScribe's `weighting` dict).
struct Weighting {
  WeightFunction function = WeightFunction::None;
  double r0 = 1.0, c = 1.0, d = 1.0, m = 1.0;
  bool hasW0 = false;  // replace the weight of atoms at r == 0 (the centre itself)
  double w0 = 1.0;
  double weight(double r) const;  // weight of a neighbour at distance r > 0 (no w0 logic)
};

struct SoapParams {
  double rCut = 0;
  int nMax = 0;
  int lMax = 0;
  double sigma = 1.0;
  Rbf rbf = Rbf::Gto;
  std::vector<int> species;            // ascending, unique atomic numbers
  std::vector<double> speciesWeights;  // one per entry of `species` (compression species_weighting)
  Compression compression = Compression::Off;
  Average average = Average::Off;
  Weighting weighting;

  // sigma * sqrt(-2 ln 1e-3): where a Gaussian of width sigma drops to 1e-3 (DScribe).
  double cutoffPadding() const;
  // Neighbour cutoff used for the search: r_cut + padding.
  double neighbourCutoff() const { return rCut + cutoffPadding(); }
  double eta() const { return 1.0 / (2.0 * sigma * sigma); }
  int numSpecies() const { return static_cast<int>(species.size()); }
  // Index of atomic number z in `species`, or -1.
  int speciesIndex(int z) const;
  // Length of one feature vector.
  long long featureCount() const;
  // Throws InvalidArgument with a message naming the parameter and its allowed range.
  void validate() const;
};

// Shortest readable form of a number for error messages ("0.001", "1e6", "1e-6", "1e200").
std::string formatNumber(double v);

// Human-readable label of each feature column, in output order, e.g. "Z1=1,Z2=1,l=0,n=0,n'=1".
struct FeatureLabel {
  int z1, z2, l, n, nPrime;
};
std::vector<FeatureLabel> featureLabels(const SoapParams& p);

}  // namespace soapix
