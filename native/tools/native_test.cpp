// Native test of the SOAP core without Node: links soapix_core only (CMake target
// soapix_native_test, run by ctest or directly). Exit status 0 when every check passes.
//
// Checks, on a small random two-species cloud:
//   - featureCount() matches the closed-form length for each compression mode;
//   - the output is invariant under a random rotation (and a translation) to 1e-10 relative;
//   - permuting the points permutes the output rows and nothing else (bit-identical rows);
//   - float32 output equals float64 output to float precision (off-grid: the float64 result
//     rounded); on an integer grid it is computed in float32, within 1e-5 of float64;
//   - the cell list finds the same neighbours as a direct scan (dense grid and hashed cells);
//   - 1 thread and 2 threads give bit-identical results;
//   - averaging 'inner'/'outer' returns one row;
//   - bad parameters (nMax = 0, lMax too large, rCut <= 1 with GTO, unknown species) throw
//     soapix::InvalidArgument.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "neighbour_search.h"
#include "simd.h"
#include "soap_calculator.h"
#include "soap_params.h"

using namespace soapix;

static int failures = 0;
static int checks = 0;

static void check(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  } else {
    std::printf("ok   %s\n", what.c_str());
  }
}

static SoapParams baseParams(Rbf rbf) {
  SoapParams p;
  p.rCut = 4.0;
  p.nMax = 4;
  p.lMax = 3;
  p.sigma = 0.6;
  p.rbf = rbf;
  p.species = {1, 6};
  p.speciesWeights = {1.0, 1.0};
  return p;
}

struct Cloud {
  std::vector<double> xyz;
  std::vector<int32_t> z;
  long n() const { return static_cast<long>(z.size()); }
};

static Cloud randomCloud(long n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-2.5, 2.5);
  Cloud c;
  for (long i = 0; i < n; ++i) {
    c.xyz.push_back(u(rng));
    c.xyz.push_back(u(rng));
    c.xyz.push_back(u(rng));
    c.z.push_back(i % 3 == 0 ? 6 : 1);
  }
  return c;
}

// Random proper rotation from a normalised random quaternion.
static void randomRotation(unsigned seed, double R[9]) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  double q[4] = {g(rng), g(rng), g(rng), g(rng)};
  const double s = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& v : q) v /= s;
  const double w = q[0], x = q[1], y = q[2], zq = q[3];
  const double M[9] = {1 - 2 * (y * y + zq * zq), 2 * (x * y - zq * w),      2 * (x * zq + y * w),
                       2 * (x * y + zq * w),      1 - 2 * (x * x + zq * zq), 2 * (y * zq - x * w),
                       2 * (x * zq - y * w),      2 * (y * zq + x * w),      1 - 2 * (x * x + y * y)};
  std::copy(M, M + 9, R);
}

static Cloud transform(const Cloud& c, const double R[9], const double t[3]) {
  Cloud o = c;
  for (long i = 0; i < c.n(); ++i)
    for (int a = 0; a < 3; ++a)
      o.xyz[3 * i + a] =
          R[3 * a] * c.xyz[3 * i] + R[3 * a + 1] * c.xyz[3 * i + 1] + R[3 * a + 2] * c.xyz[3 * i + 2] + t[a];
  return o;
}

static StructureView view(const Cloud& c) {
  StructureView v;
  v.positions = c.xyz.data();
  v.numPoints = c.n();
  v.atomicNumbers = c.z.data();
  return v;
}

static std::vector<double> run64(const SoapCalculator& calc, const Cloud& c, int threads = 2) {
  const StructureView v = view(c);
  std::vector<double> out(static_cast<size_t>(calc.outputRows(v) * calc.featureCount()));
  calc.compute({v}, {out.data()}, DType::Float64, threads, nullptr);
  return out;
}

static double maxAbs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

static double maxDiff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

static bool allFinite(const std::vector<double>& a) {
  return std::all_of(a.begin(), a.end(), [](double v) { return std::isfinite(v); });
}

static bool throwsInvalid(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument&) {
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

static void testRbf(Rbf rbf, const char* name) {
  const std::string tag = std::string("[") + name + "] ";
  const SoapParams p = baseParams(rbf);
  const SoapCalculator calc(p, nullptr, nullptr);
  const long long S = 2, n = p.nMax, L = p.lMax + 1;
  check(calc.featureCount() == L * (S * n) * (S * n + 1) / 2, tag + "featureCount (compression off)");

  const Cloud cloud = randomCloud(24, 7);
  const std::vector<double> ref = run64(calc, cloud);
  check(ref.size() == static_cast<size_t>(cloud.n() * calc.featureCount()), tag + "output size = points x features");
  check(allFinite(ref), tag + "output is finite");
  const double scale = maxAbs(ref);
  check(scale > 0, tag + "output is not all zero");

  double R[9];
  randomRotation(11, R);
  const double t[3] = {0.3, -1.7, 2.2};
  const std::vector<double> rot = run64(calc, transform(cloud, R, t));
  const double rel = maxDiff(ref, rot) / scale;
  std::printf("     rotation+translation: max relative difference %.3e\n", rel);
  check(rel < 1e-10, tag + "rotation + translation invariance to 1e-10");

  // Permute points: rows permute accordingly.
  std::vector<long> perm(cloud.n());
  std::iota(perm.begin(), perm.end(), 0L);
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(3));
  Cloud shuffled = cloud;
  for (long i = 0; i < cloud.n(); ++i) {
    for (int a = 0; a < 3; ++a) shuffled.xyz[3 * i + a] = cloud.xyz[3 * perm[i] + a];
    shuffled.z[i] = cloud.z[perm[i]];
  }
  const std::vector<double> sh = run64(calc, shuffled);
  const long F = static_cast<long>(calc.featureCount());
  double permDiff = 0;
  for (long i = 0; i < cloud.n(); ++i)
    for (long f = 0; f < F; ++f) permDiff = std::max(permDiff, std::fabs(sh[i * F + f] - ref[perm[i] * F + f]));
  // Neighbours are summed in an order fixed by their positions (neighbour_search.h), not by the
  // input order, so permuted points give bit-identical rows.
  check(permDiff == 0.0, tag + "point permutation permutes rows (bit-identical)");

  // Threads: 1 vs 2 identical.
  const std::vector<double> one = run64(calc, cloud, 1);
  check(maxDiff(one, ref) == 0.0, tag + "1 thread and 2 threads agree exactly");

  // float32 output.
  {
    const StructureView v = view(cloud);
    std::vector<float> out32(ref.size());
    calc.compute({v}, {out32.data()}, DType::Float32, 2, nullptr);
    double d = 0;
    for (size_t i = 0; i < ref.size(); ++i) d = std::max(d, std::fabs(double(out32[i]) - ref[i]));
    check(d / scale < 1e-6, tag + "float32 output matches float64");
  }

  // Several structures in one call equal separate calls.
  {
    const Cloud other = randomCloud(9, 99);
    const StructureView v1 = view(cloud), v2 = view(other);
    std::vector<double> o1(ref.size()), o2(static_cast<size_t>(other.n() * F));
    calc.compute({v1, v2}, {o1.data(), o2.data()}, DType::Float64, 2, nullptr);
    check(maxDiff(o1, ref) == 0.0 && maxDiff(o2, run64(calc, other)) == 0.0,
          tag + "batch of two structures equals separate calls");
  }

  // Averaging gives one row.
  for (Average avg : {Average::Inner, Average::Outer}) {
    SoapParams pa = p;
    pa.average = avg;
    const SoapCalculator ca(pa, nullptr, nullptr);
    const std::vector<double> out = run64(ca, cloud);
    check(ca.outputRows(view(cloud)) == 1 && out.size() == static_cast<size_t>(F) && allFinite(out),
          tag + (avg == Average::Inner ? "average inner" : "average outer") + " gives one finite row");
    const std::vector<double> outRot = run64(ca, transform(cloud, R, t));
    check(maxDiff(out, outRot) / std::max(maxAbs(out), 1e-300) < 1e-10,
          tag + (avg == Average::Inner ? "average inner" : "average outer") + " rotation invariant");
  }

  // Unknown species in the structure.
  {
    Cloud bad = cloud;
    bad.z[5] = 8;
    check(throwsInvalid([&] { calc.validate(view(bad), "structure 0"); }),
          tag + "unknown atomic number throws InvalidArgument");
  }
}

// Integer grid (the float32 kernels' domain): float32 within 1e-5 of float64 relative to the
// largest value, and computed in float32 (not the float64 result rounded); permutation exact.
static void testIntegerGrid() {
  SoapParams p = baseParams(Rbf::Gto);
  p.rCut = 5.0;
  p.sigma = 1.0;
  const SoapCalculator calc(p, nullptr, nullptr);
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<int> u(-7, 7);
  Cloud c;
  for (int i = 0; i < 300; ++i) {
    for (int a = 0; a < 3; ++a) c.xyz.push_back(u(rng));
    c.z.push_back(i % 4 == 0 ? 6 : 1);
  }
  const std::vector<double> ref = run64(calc, c);
  std::vector<float> out32(ref.size());
  calc.compute({view(c)}, {out32.data()}, DType::Float32, 2, nullptr);
  double d = 0;
  long notRounded = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    d = std::max(d, std::fabs(double(out32[i]) - ref[i]));
    notRounded += out32[i] != static_cast<float>(ref[i]);
  }
  std::printf(
      "     integer grid: float32 vs float64 max relative difference %.3e, %ld of %zu values differ from "
      "the rounded float64 value\n",
      d / maxAbs(ref), notRounded, ref.size());
  check(d / maxAbs(ref) <= 1e-5, "[gto, integer grid] float32 within 1e-5 of float64");
  check(notRounded > 0, "[gto, integer grid] float32 is computed in float32");
  std::vector<float> again(ref.size());
  calc.compute({view(c)}, {again.data()}, DType::Float32, 1, nullptr);
  check(again == out32, "[gto, integer grid] float32: 1 thread and 2 threads agree exactly");
}

// The cell list finds exactly the points within the cutoff (inclusive), in its dense-grid mode
// and in its hashed mode (clusters far apart), compared with a direct scan.
static void testCellList() {
  struct Case {
    const char* name;
    std::vector<double> xyz;
  };
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 30.0);
  std::uniform_int_distribution<int> ui(0, 20);
  Case dense{"dense grid", {}}, sparse{"hashed cells", {}}, grid{"integer grid, points on cell faces", {}};
  for (int i = 0; i < 1500; ++i)
    for (int a = 0; a < 3; ++a) dense.xyz.push_back(u(rng));
  for (int i = 0; i < 600; ++i) {
    const double offset = (i % 3) * 1e8;  // three clusters 1e8 apart: far too many cells for a grid
    for (int a = 0; a < 3; ++a) sparse.xyz.push_back(offset + u(rng) / 3);
  }
  for (int i = 0; i < 1500; ++i)
    for (int a = 0; a < 3; ++a) grid.xyz.push_back(ui(rng));
  for (const Case* k : {&dense, &sparse, &grid}) {
    const long n = static_cast<long>(k->xyz.size() / 3);
    const double cutoff = 4.0, cut2 = cutoff * cutoff;
    const CellList cells(k->xyz.data(), n, cutoff, nullptr);
    long mismatches = 0, total = 0;
    for (long i = 0; i < n; i += 7) {
      const double* q = &k->xyz[3 * i];
      std::vector<long> found, expect;
      cells.forEachRun(q, [&](long b, long e) {
        for (long s = b; s < e; ++s) {
          const double dx = cells.x()[s] - q[0], dy = cells.y()[s] - q[1], dz = cells.z()[s] - q[2];
          if (dx * dx + dy * dy + dz * dz <= cut2) found.push_back(cells.pointOf()[s]);
        }
      });
      for (long j = 0; j < n; ++j) {
        const double dx = k->xyz[3 * j] - q[0], dy = k->xyz[3 * j + 1] - q[1], dz = k->xyz[3 * j + 2] - q[2];
        if (dx * dx + dy * dy + dz * dz <= cut2) expect.push_back(j);
      }
      std::sort(found.begin(), found.end());
      mismatches += found != expect;
      total += static_cast<long>(expect.size());
    }
    check(mismatches == 0 && total > 0, std::string("cell list (") + k->name + "): same neighbours as a direct scan");
  }
}

static void testCompressionCounts() {
  const long long S = 2, n = 4, L = 4;
  struct Case {
    Compression c;
    long long expect;
    const char* name;
  } cases[] = {
      {Compression::Off, L * (S * n) * (S * n + 1) / 2, "off"},
      {Compression::Crossover, S * L * n * (n + 1) / 2, "crossover"},
      {Compression::Mu2, L * n * (n + 1) / 2, "mu2"},
      {Compression::Mu1Nu1, S * L * n * n, "mu1nu1"},
  };
  const Cloud cloud = randomCloud(10, 5);
  for (const Case& k : cases) {
    SoapParams p = baseParams(Rbf::Gto);
    p.compression = k.c;
    const SoapCalculator calc(p, nullptr, nullptr);
    const std::vector<double> out = run64(calc, cloud);
    check(calc.featureCount() == k.expect && out.size() == static_cast<size_t>(cloud.n() * k.expect) && allFinite(out),
          std::string("featureCount and output, compression ") + k.name);
  }
}

static void testInvalidParams() {
  auto make = [](const std::function<void(SoapParams&)>& edit) {
    return [edit] {
      SoapParams p = baseParams(Rbf::Gto);
      edit(p);
      SoapCalculator calc(p, nullptr, nullptr);
    };
  };
  check(throwsInvalid(make([](SoapParams& p) { p.nMax = 0; })), "nMax = 0 throws InvalidArgument");
  check(throwsInvalid(make([](SoapParams& p) { p.nMax = kMaxNMax + 1; })), "nMax too large throws InvalidArgument");
  check(throwsInvalid(make([](SoapParams& p) { p.lMax = kMaxLMaxGto + 1; })),
        "lMax = 20 with GTO throws InvalidArgument");
  check(throwsInvalid(make([](SoapParams& p) { p.rCut = 1.0; })), "rCut = 1 with GTO throws InvalidArgument");
  check(throwsInvalid(make([](SoapParams& p) { p.sigma = -1; })), "sigma < 0 throws InvalidArgument");
  check(throwsInvalid(make([](SoapParams& p) { p.species = {6, 1}; })), "unsorted species throw InvalidArgument");
  check(throwsInvalid(make([](SoapParams& p) {
          p.species.clear();
          p.speciesWeights.clear();
        })),
        "empty species throw InvalidArgument");
}

int main() {
  std::printf("kernel path: %s (SOAPIX_SIMD=%s)\n", simdPath(),
              std::getenv("SOAPIX_SIMD") ? std::getenv("SOAPIX_SIMD") : "unset");
  try {
    testRbf(Rbf::Gto, "gto");
    testRbf(Rbf::Polynomial, "polynomial");
    testIntegerGrid();
    testCellList();
    testCompressionCounts();
    testInvalidParams();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: unexpected exception: %s\n", e.what());
    return 1;
  }
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
