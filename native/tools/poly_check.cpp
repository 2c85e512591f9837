// Stand-alone check of the polynomial radial basis path against DScribe 2.1.1's reference output.
//
//   g++ -O2 -std=c++17 -Inative/src native/tools/poly_check.cpp native/src/polynomial_basis.cpp  (cont.)
//       native/src/polynomial_coefficients.cpp native/src/spherical_harmonics.cpp native/src/soap_params.cpp  (cont.)
//       native/src/gto_basis.cpp -o /tmp/poly_check
//   mkdir -p /tmp/ref && for f in test/fixtures/reference/{d_poly_*,poly_quadrature_grid}.json.gz; do  (cont.)
//       gunzip -c "$f" > /tmp/ref/"$(basename "$f" .gz)"; done
//   /tmp/poly_check /tmp/ref/d_poly_rc10_n5_l4_s1_train0000{0,1,2}.json
// (the reference cases are committed gzipped, docs/REFERENCE-DATA.md; the grid file is read from
// the folder of the first case when present).
//
// For each file: builds every centre's neighbours (all points within rCut + 3.716922188849838 sigma,
// inclusive, the centre itself included, weight 1, one species), computes c with the polynomial
// kernel and p[l][n<=n'] in DScribe's order, and prints max|p - ref| / max|ref| for
//   (a) DScribe's float64 betas from the file (polynomialBasisFromBetas), limit 1e-9,
//   (b) soapix's own extended-precision betas (makePolynomialBasis), limit 1e-4.
// It also checks the grid (rx) and g_n(r_w) (gss) against the file. Exit status 1 on failure.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "coefficients.h"
#include "polynomial_basis.h"
#include "simd.h"
#include "soap_params.h"

using namespace soapix;

// ---- minimal JSON reader (objects, arrays, numbers, strings, true/false/null) ----
struct Json {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  double num = 0;
  bool b = false;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;
  const Json& operator[](const std::string& k) const {
    auto it = obj.find(k);
    if (it == obj.end()) {
      std::fprintf(stderr, "missing key %s\n", k.c_str());
      std::exit(2);
    }
    return it->second;
  }
  std::vector<double> nums() const {  // flattens nested arrays of numbers
    std::vector<double> out;
    flatten(out);
    return out;
  }
  void flatten(std::vector<double>& out) const {
    if (kind == Num) out.push_back(num);
    for (const Json& j : arr) j.flatten(out);
  }
};

struct Parser {
  const std::string& s;
  size_t i = 0;
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  [[noreturn]] void fail() {
    std::fprintf(stderr, "JSON parse error at %zu\n", i);
    std::exit(2);
  }
  std::string string() {
    std::string out;
    ++i;  // opening quote
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        ++i;
        if (s[i] == 'u') {
          i += 4;  // not needed here; keep a placeholder
          out += '?';
        } else {
          out += s[i];
        }
      } else {
        out += s[i];
      }
      ++i;
    }
    ++i;
    return out;
  }
  Json value() {
    ws();
    Json j;
    if (i >= s.size()) fail();
    const char c = s[i];
    if (c == '{') {
      j.kind = Json::Obj;
      ++i;
      ws();
      if (s[i] == '}') {
        ++i;
        return j;
      }
      for (;;) {
        ws();
        std::string k = string();
        ws();
        if (s[i] != ':') fail();
        ++i;
        j.obj[k] = value();
        ws();
        if (s[i] == ',') {
          ++i;
          continue;
        }
        if (s[i] == '}') {
          ++i;
          return j;
        }
        fail();
      }
    }
    if (c == '[') {
      j.kind = Json::Arr;
      ++i;
      ws();
      if (s[i] == ']') {
        ++i;
        return j;
      }
      for (;;) {
        j.arr.push_back(value());
        ws();
        if (s[i] == ',') {
          ++i;
          continue;
        }
        if (s[i] == ']') {
          ++i;
          return j;
        }
        fail();
      }
    }
    if (c == '"') {
      j.kind = Json::Str;
      j.str = string();
      return j;
    }
    if (s.compare(i, 4, "true") == 0) {
      j.kind = Json::Bool;
      j.b = true;
      i += 4;
      return j;
    }
    if (s.compare(i, 5, "false") == 0) {
      j.kind = Json::Bool;
      i += 5;
      return j;
    }
    if (s.compare(i, 4, "null") == 0) {
      i += 4;
      return j;
    }
    char* end = nullptr;
    j.kind = Json::Num;
    j.num = std::strtod(s.c_str() + i, &end);
    if (end == s.c_str() + i) fail();
    i = static_cast<size_t>(end - s.c_str());
    return j;
  }
};

Json load(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(2);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  Parser p{text};
  return p.value();
}

// ---- descriptor ----
std::vector<double> descriptor(const SoapParams& p, const PolynomialBasis& basis, const std::vector<double>& pts) {
  auto kernel = makePolynomialKernel(p, basis);
  const std::vector<double> pre = kernel->powerPrefactors();
  const int N = static_cast<int>(pts.size() / 3), nMax = p.nMax, L2 = (p.lMax + 1) * (p.lMax + 1);
  const double cut = p.neighbourCutoff(), cut2 = cut * cut;
  const int nFeat = (p.lMax + 1) * nMax * (nMax + 1) / 2;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(N) * nFeat);
  NeighbourList nb;
  Workspace ws;
  const int NP = padLanes(nMax);  // coefficients are c[lm][n], n padded to NP (coefficients.h)
  std::vector<double> c(static_cast<size_t>(NP) * L2);
  for (int a = 0; a < N; ++a) {
    for (std::vector<double>* v : {&nb.dx, &nb.dy, &nb.dz, &nb.r2, &nb.w}) v->clear();
    nb.begin.assign(1, 0);
    for (int b = 0; b < N; ++b) {
      const double dx = pts[3 * b] - pts[3 * a], dy = pts[3 * b + 1] - pts[3 * a + 1],
                   dz = pts[3 * b + 2] - pts[3 * a + 2];
      const double r2 = dx * dx + dy * dy + dz * dz;
      if (r2 <= cut2) {
        nb.dx.push_back(dx);
        nb.dy.push_back(dy);
        nb.dz.push_back(dz);
        nb.r2.push_back(r2);
        nb.w.push_back(1.0);
      }
    }
    nb.begin.push_back(static_cast<int>(nb.dx.size()));
    nb.unitWeights = true;
    const size_t padded = static_cast<size_t>(padVec(nb.begin.back()));  // zero padding (neighbour_list.h)
    for (std::vector<double>* v : {&nb.dx, &nb.dy, &nb.dz, &nb.r2, &nb.w}) v->resize(padded, 0.0);
    kernel->compute(nb, c.data(), ws);
    for (int l = 0; l <= p.lMax; ++l)
      for (int n = 0; n < nMax; ++n)
        for (int np = n; np < nMax; ++np) {
          double s = 0;
          for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) s += c[lm * NP + n] * c[lm * NP + np];
          out.push_back(pre[l] * s);
        }
  }
  return out;
}

double relErr(const std::vector<double>& a, const std::vector<double>& ref) {
  double md = 0, mr = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    md = std::fmax(md, std::fabs(a[i] - ref[i]));
    mr = std::fmax(mr, std::fabs(ref[i]));
  }
  return md / mr;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: poly_check FILE.json...\n");
    return 2;
  }
  bool ok = true;
  {  // The quadrature weights must be bit-identical to DScribe's (poly_quadrature_grid.json next to the cases).
    std::string dir = argv[1];
    dir = dir.find('/') == std::string::npos ? "." : dir.substr(0, dir.rfind('/'));
    std::ifstream probe(dir + "/poly_quadrature_grid.json");
    if (probe) {
      const std::vector<double> wRef = load(dir + "/poly_quadrature_grid.json")["weights"].nums();
      const PolynomialBasis b = makePolynomialBasis(2.0, 1);
      int bad = 0;
      for (int w = 0; w < kPolyQuadratureNodes; ++w) bad += b.ws[w] != wRef[w];
      std::printf("quadrature weights differing from DScribe's: %d of %d\n", bad, kPolyQuadratureNodes);
      ok = ok && bad == 0;
    }
  }
  for (int f = 1; f < argc; ++f) {
    const Json j = load(argv[f]);
    const Json& prm = j["params"];
    SoapParams p;
    p.rCut = prm["r_cut"].num;
    p.nMax = static_cast<int>(prm["n_max"].num);
    p.lMax = static_cast<int>(prm["l_max"].num);
    p.sigma = prm["sigma"].num;
    p.rbf = Rbf::Polynomial;
    p.species = {1};
    p.speciesWeights = {1.0};
    const std::vector<double> pts = j["points"].nums();
    const std::vector<double> ref = j["descriptor"].nums();
    const std::vector<double> betas = j["basis"]["betas"].nums();
    const std::vector<double> rxRef = j["basis"]["rx"].nums();
    const std::vector<double> gssRef = j["basis"]["gss"].nums();
    if (ref.size() != (pts.size() / 3) * static_cast<size_t>((p.lMax + 1) * p.nMax * (p.nMax + 1) / 2)) {
      std::fprintf(stderr, "%s: unexpected descriptor size\n", argv[f]);
      return 2;
    }

    const PolynomialBasis dsb = polynomialBasisFromBetas(p.rCut, p.nMax, betas);
    const PolynomialBasis own = makePolynomialBasis(p.rCut, p.nMax);
    int rxMismatch = 0;
    for (int w = 0; w < kPolyQuadratureNodes; ++w) rxMismatch += dsb.rx[w] != rxRef[w];
    double gssErr = 0, gssMax = 0, gssOwnErr = 0, betaErr = 0, betaMax = 0;
    for (size_t k = 0; k < gssRef.size(); ++k) {
      gssErr = std::fmax(gssErr, std::fabs(dsb.gss[k] - gssRef[k]));
      gssOwnErr = std::fmax(gssOwnErr, std::fabs(own.gss[k] - gssRef[k]));
      gssMax = std::fmax(gssMax, std::fabs(gssRef[k]));
    }
    for (size_t k = 0; k < betas.size(); ++k) {
      betaErr = std::fmax(betaErr, std::fabs(own.betas[k] - betas[k]));
      betaMax = std::fmax(betaMax, std::fabs(betas[k]));
    }

    const double eDs = relErr(descriptor(p, dsb, pts), ref);
    const double eOwn = relErr(descriptor(p, own, pts), ref);
    const bool pass = rxMismatch == 0 && eDs <= 1e-9 && eOwn <= 1e-4;
    ok = ok && pass;
    const char* name = std::strrchr(argv[f], '/') ? std::strrchr(argv[f], '/') + 1 : argv[f];
    std::printf("%s: %zu centres x %d features\n", name, pts.size() / 3, (p.lMax + 1) * p.nMax * (p.nMax + 1) / 2);
    std::printf("  rx nodes differing from DScribe: %d\n", rxMismatch);
    std::printf("  gss from DScribe betas vs file: max|diff|/max = %.3e; own basis vs file: %.3e\n", gssErr / gssMax,
                gssOwnErr / gssMax);
    std::printf("  own betas vs DScribe betas: max|diff|/max = %.3e\n", betaErr / betaMax);
    std::printf("  descriptor, DScribe betas: max|diff|/max|ref| = %.3e  (limit 1e-9)\n", eDs);
    std::printf("  descriptor, own basis:     max|diff|/max|ref| = %.3e  (limit 1e-4)  %s\n", eOwn,
                pass ? "PASS" : "FAIL");
  }
  return ok ? 0 : 1;
}
