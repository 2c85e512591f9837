// Polynomial radial basis of DScribe 2.1.1 (docs/CONVENTIONS.md §4).
//
//   phi_j(r) = (rCut - clip(r, 0, rCut))^(j+2),  j = 1..nMax
//   S_ij     = 2 rCut^(7+i+j) / ((5+i+j)(6+i+j)(7+i+j))   (= integral of phi_i phi_j r^2 over [0, rCut])
//   betas    = S^(-1/2),  g_n(r) = sum_j betas[n][j] phi_j(r)
//
// DScribe evaluates g_n on a fixed 100-node Gauss-Legendre grid r_w = rCut (x_w + 1) / 2 and integrates
// with fixed weights. Both tables below are DScribe's literals, copied verbatim (generated from
// test/fixtures/reference/poly_quadrature_grid.json.gz), so they round to the same doubles DScribe uses:
// the nodes come from soap.py get_basis_poly, the weights from soapGeneral.cpp getws(). The weights
// sum to 2.0000000000000004, not 2; that is DScribe's table and is kept.
//
// DScribe computes betas as scipy sqrtm(inv(S)) in float64. S is badly conditioned (cond 3e11 for
// rCut = 10, nMax = 5), so those betas carry relative errors ~1e-6. Here S^(-1/2) is computed in
// extended precision (binary128 where the compiler has it, otherwise long double) with a cyclic
// Jacobi eigen-decomposition, and g_n on the grid is summed in the same precision before rounding.
#include "polynomial_basis.h"

#include <cmath>
#include <string>

#include "soap_params.h"

namespace soapix {
namespace {

#if defined(__SIZEOF_FLOAT128__) && (defined(__x86_64__) || defined(__i386__))
__extension__ typedef __float128 xreal;  // soft-float binary128 from libgcc; no libquadmath needed
#else
typedef long double xreal;  // binary128 on aarch64 Linux, 80-bit on x86 without __float128
#endif

// DScribe 2.1.1 soap.py get_basis_poly: x[0..99]. The tables keep DScribe's digits and layout.
// clang-format off
constexpr double kNodes[kPolyQuadratureNodes] = {
    -0.999713726773441234, -0.998491950639595818, -0.996295134733125149, -0.99312493703744346,
    -0.98898439524299175, -0.98387754070605702, -0.97780935848691829, -0.97078577576370633,
    -0.962813654255815527, -0.95390078292549174, -0.94405587013625598, -0.933288535043079546,
    -0.921609298145333953, -0.90902957098252969, -0.895561644970726987, -0.881218679385018416,
    -0.86601468849716462, -0.849964527879591284, -0.833083879888400824, -0.815389238339176254,
    -0.79689789239031448, -0.77762790964949548, -0.757598118519707176, -0.736828089802020706,
    -0.715338117573056447, -0.69314919935580197, -0.670283015603141016, -0.64676190851412928,
    -0.622608860203707772, -0.59784747024717872, -0.57250193262138119, -0.546597012065094168,
    -0.520158019881763057, -0.493210789208190934, -0.465781649773358042, -0.437897402172031513,
    -0.409585291678301543, -0.380872981624629957, -0.351788526372421721, -0.322360343900529152,
    -0.292617188038471965, -0.26258812037150348, -0.23230248184497397, -0.201789864095735997,
    -0.171080080538603275, -0.140203137236113973, -0.109189203580061115, -0.0780685828134366367,
    -0.046871682421591632, -0.015628984421543083, 0.0156289844215430829, 0.046871682421591632,
    0.078068582813436637, 0.109189203580061115, 0.140203137236113973, 0.171080080538603275,
    0.201789864095735997, 0.23230248184497397, 0.262588120371503479, 0.292617188038471965,
    0.322360343900529152, 0.351788526372421721, 0.380872981624629957, 0.409585291678301543,
    0.437897402172031513, 0.465781649773358042, 0.49321078920819093, 0.520158019881763057,
    0.546597012065094168, 0.572501932621381191, 0.59784747024717872, 0.622608860203707772,
    0.64676190851412928, 0.670283015603141016, 0.693149199355801966, 0.715338117573056447,
    0.736828089802020706, 0.75759811851970718, 0.77762790964949548, 0.79689789239031448,
    0.81538923833917625, 0.833083879888400824, 0.849964527879591284, 0.866014688497164623,
    0.881218679385018416, 0.89556164497072699, 0.90902957098252969, 0.921609298145333953,
    0.933288535043079546, 0.94405587013625598, 0.953900782925491743, 0.96281365425581553,
    0.970785775763706332, 0.977809358486918289, 0.983877540706057016, 0.98898439524299175,
    0.99312493703744346, 0.99629513473312515, 0.998491950639595818, 0.99971372677344123,
};
// DScribe 2.1.1 soapGeneral.cpp getws(): c[0..99].
constexpr double kWeights[kPolyQuadratureNodes] = {
    7.34634490505672E-4, 0.001709392653518105, 0.002683925371553482, 0.003655961201326375,
    0.00462445006342212, 0.00558842800386552, 0.00654694845084532, 0.007499073255464712,
    0.008443871469668971, 0.00938041965369446, 0.01030780257486897, 0.01122511402318598,
    0.012131457662979497, 0.0130259478929715423, 0.0139077107037187727, 0.014775884527441302,
    0.015629621077546003, 0.01646808617614521, 0.017290460568323582, 0.018095940722128117,
    0.018883739613374905, 0.019653087494435306, 0.020403232646209433, 0.021133442112527642,
    0.02184300241624739, 0.022531220256336273, 0.023197423185254122, 0.023840960265968206,
    0.02446120270795705, 0.02505754448157959, 0.02562940291020812, 0.02617621923954568,
    0.026697459183570963, 0.02719261344657688, 0.027661198220792388, 0.028102755659101173,
    0.028516854322395098, 0.028903089601125203, 0.029261084110638277, 0.02959048805991264,
    0.029890979593332831, 0.03016226510516914, 0.03040407952645482, 0.03061618658398045,
    0.03079837903115259, 0.030950478850490988, 0.031072337427566517, 0.031163835696209907,
    0.03122488425484936, 0.03125542345386336, 0.031255423453863357, 0.03122488425484936,
    0.0311638356962099068, 0.031072337427566517, 0.030950478850490988, 0.03079837903115259,
    0.030616186583980449, 0.03040407952645482, 0.0301622651051691449, 0.02989097959333283,
    0.029590488059912643, 0.029261084110638277, 0.028903089601125203, 0.0285168543223951,
    0.02810275565910117, 0.02766119822079239, 0.02719261344657688, 0.02669745918357096,
    0.02617621923954568, 0.025629402910208116, 0.02505754448157959, 0.024461202707957053,
    0.02384096026596821, 0.023197423185254122, 0.0225312202563362727, 0.021843002416247386,
    0.02113344211252764, 0.020403232646209433, 0.019653087494435306, 0.0188837396133749046,
    0.018095940722128117, 0.017290460568323582, 0.016468086176145213, 0.015629621077546003,
    0.0147758845274413, 0.013907710703718773, 0.01302594789297154, 0.0121314576629795,
    0.01122511402318598, 0.01030780257486897, 0.00938041965369446, 0.008443871469668971,
    0.007499073255464712, 0.00654694845084532, 0.005588428003865515, 0.00462445006342212,
    0.003655961201326375, 0.002683925371553482, 0.001709392653518105, 7.3463449050567E-4,
};
// clang-format on

// Largest accepted deviation of betas S betas from the identity.
constexpr double kMaxOrthonormalityError = 1e-10;

xreal xabs(xreal a) { return a < 0 ? -a : a; }

// Square root by Newton's method from a double first guess; the argument is first brought into
// double range by even powers of two.
xreal xsqrt(xreal a) {
  if (!(a > 0)) return 0;
  if (a - a != 0) return a;  // +infinity: the scaling loops below would never end
  xreal scale = 1;
  const xreal big = 0x1p+400, small = 0x1p-400;
  while (a > big) {
    a *= small;
    scale *= 0x1p+200;
  }
  while (a < small) {
    a *= big;
    scale *= 0x1p-200;
  }
  xreal y = std::sqrt(static_cast<double>(a));
  for (int it = 0; it < 4; ++it) y = (y + a / y) / 2;
  return y * scale;
}

xreal xepsilon() {
  xreal e = 1;
  while (static_cast<xreal>(1) + e / 2 > static_cast<xreal>(1)) e /= 2;
  return e;
}

// rx exactly as numpy computes it: r_cut * 0.5 * (x + 1).
void fillGrid(PolynomialBasis& b) {
  b.rx.resize(kPolyQuadratureNodes);
  b.ws.assign(kWeights, kWeights + kPolyQuadratureNodes);
  for (int w = 0; w < kPolyQuadratureNodes; ++w) b.rx[w] = b.rCut * 0.5 * (kNodes[w] + 1.0);
}

void checkArgs(double rCut, int nMax) {
  if (!std::isfinite(rCut) || rCut <= 0)
    throw InvalidArgument("rCut must be a finite number > 0 for the polynomial basis");
  if (nMax < 1 || nMax > kMaxNMax)
    throw InvalidArgument("nMax must be an integer in [1, " + std::to_string(kMaxNMax) + "]");
}

}  // namespace

PolynomialBasis makePolynomialBasis(double rCut, int nMax) {
  checkArgs(rCut, nMax);
  const int N = nMax;
  // Overlap matrix, exact up to binary128 rounding.
  std::vector<xreal> S(N * N), V(N * N, 0);
  for (int i = 1; i <= N; ++i)
    for (int j = 1; j <= N; ++j) {
      xreal p = 1;
      for (int k = 0; k < 7 + i + j; ++k) p *= static_cast<xreal>(rCut);
      const xreal den = static_cast<xreal>((5 + i + j) * (6 + i + j) * (7 + i + j));
      S[(i - 1) * N + (j - 1)] = 2 * p / den;
    }
  std::vector<xreal> A = S;
  for (int i = 0; i < N; ++i) V[i * N + i] = 1;

  // Cyclic Jacobi. A rotation is skipped when the off-diagonal element is negligible relative to
  // its diagonal pair, which keeps the small eigenvalues of this graded matrix relatively accurate.
  const xreal eps = xepsilon();
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (int p = 0; p < N - 1; ++p)
      for (int q = p + 1; q < N; ++q) {
        const xreal apq = A[p * N + q];
        if (apq == 0) continue;
        const xreal app = A[p * N + p], aqq = A[q * N + q];
        if (xabs(apq) <= eps * xsqrt(xabs(app * aqq)) / 8) {
          A[p * N + q] = A[q * N + p] = 0;
          continue;
        }
        rotated = true;
        const xreal theta = (aqq - app) / (2 * apq);
        const xreal at = xabs(theta);
        xreal t = 1 / (at + xsqrt(at * at + 1));
        if (theta < 0) t = -t;
        const xreal c = 1 / xsqrt(t * t + 1), s = t * c;
        for (int k = 0; k < N; ++k) {  // columns p, q
          const xreal akp = A[k * N + p], akq = A[k * N + q];
          A[k * N + p] = c * akp - s * akq;
          A[k * N + q] = s * akp + c * akq;
        }
        for (int k = 0; k < N; ++k) {  // rows p, q
          const xreal apk = A[p * N + k], aqk = A[q * N + k];
          A[p * N + k] = c * apk - s * aqk;
          A[q * N + k] = s * apk + c * aqk;
        }
        A[p * N + q] = A[q * N + p] = 0;
        for (int k = 0; k < N; ++k) {
          const xreal vkp = V[k * N + p], vkq = V[k * N + q];
          V[k * N + p] = c * vkp - s * vkq;
          V[k * N + q] = s * vkp + c * vkq;
        }
      }
    if (!rotated) break;
  }
  bool positive = true;
  for (int k = 0; k < N; ++k) positive = positive && A[k * N + k] > 0;
  std::vector<xreal> B(N * N, 0);
  if (positive) {
    std::vector<xreal> inv(N);
    for (int k = 0; k < N; ++k) inv[k] = 1 / xsqrt(A[k * N + k]);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        xreal s = 0;
        for (int k = 0; k < N; ++k) s += V[i * N + k] * inv[k] * V[j * N + k];
        B[i * N + j] = s;
      }
  }
  // Accept the result only if it orthonormalises S: max |B S B - I| must stay small.
  xreal resid = positive ? 0 : 1;
  if (positive) {
    std::vector<xreal> SB(N * N);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        xreal s = 0;
        for (int k = 0; k < N; ++k) s += S[i * N + k] * B[k * N + j];
        SB[i * N + j] = s;
      }
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        xreal s = 0;
        for (int k = 0; k < N; ++k) s += B[i * N + k] * SB[k * N + j];
        const xreal d = xabs(s - (i == j ? 1 : 0));
        if (!(d <= resid)) resid = d;  // also catches NaN
      }
  }
  if (!(resid <= static_cast<xreal>(kMaxOrthonormalityError)))
    throw InvalidArgument("the polynomial radial basis cannot be orthonormalised for nMax = " + std::to_string(nMax) +
                          " and rCut = " + formatNumber(rCut) +
                          " (its overlap matrix is numerically singular); lower nMax");

  PolynomialBasis b;
  b.nMax = N;
  b.rCut = rCut;
  fillGrid(b);
  b.betas.resize(N * N);
  for (int i = 0; i < N * N; ++i) b.betas[i] = static_cast<double>(B[i]);
  b.gss.resize(static_cast<size_t>(N) * kPolyQuadratureNodes);
  std::vector<xreal> phi(N);
  for (int w = 0; w < kPolyQuadratureNodes; ++w) {
    const double r = std::fmin(std::fmax(b.rx[w], 0.0), rCut);
    const xreal base = static_cast<xreal>(rCut) - static_cast<xreal>(r);
    xreal p = base * base;
    for (int j = 0; j < N; ++j) {
      p *= base;
      phi[j] = p;  // (rCut - r)^(j+3)
    }
    for (int n = 0; n < N; ++n) {
      xreal s = 0;
      for (int j = 0; j < N; ++j) s += B[n * N + j] * phi[j];
      b.gss[n * kPolyQuadratureNodes + w] = static_cast<double>(s);
    }
  }
  return b;
}

PolynomialBasis polynomialBasisFromBetas(double rCut, int nMax, const std::vector<double>& betas) {
  checkArgs(rCut, nMax);
  if (betas.size() != static_cast<size_t>(nMax) * nMax)
    throw InvalidArgument("polynomial betas must hold nMax*nMax values");
  for (double v : betas)
    if (!std::isfinite(v)) throw InvalidArgument("polynomial basis betas must be finite numbers");
  PolynomialBasis b;
  b.nMax = nMax;
  b.rCut = rCut;
  b.betas = betas;
  fillGrid(b);
  // As numpy: fs[j][w] = (r_cut - clip(rx, 0, r_cut)) ** (j + 3) via libm pow; gss = betas @ fs.
  std::vector<double> fs(static_cast<size_t>(nMax) * kPolyQuadratureNodes);
  for (int j = 0; j < nMax; ++j)
    for (int w = 0; w < kPolyQuadratureNodes; ++w) {
      const double r = std::fmin(std::fmax(b.rx[w], 0.0), rCut);
      fs[j * kPolyQuadratureNodes + w] = std::pow(rCut - r, static_cast<double>(j + 3));
    }
  b.gss.assign(static_cast<size_t>(nMax) * kPolyQuadratureNodes, 0.0);
  for (int n = 0; n < nMax; ++n)
    for (int w = 0; w < kPolyQuadratureNodes; ++w) {
      double s = 0;
      for (int j = 0; j < nMax; ++j) s += betas[n * nMax + j] * fs[j * kPolyQuadratureNodes + w];
      b.gss[n * kPolyQuadratureNodes + w] = s;
    }
  return b;
}

}  // namespace soapix
