// Dev tool: print the GTO radial basis soapix uses as JSON.
//   basis_dump RCUT NMAX LMAX            -> {"rCut":..,"nMax":..,"lMax":..,"alphas":[[..]],"betas":[[[..]]]}
//   basis_dump RCUT NMAX LMAX --time N   -> also times N calls of makeGtoBasis (to stderr)
// Errors (InvalidArgument) go to stderr as {"error": "..."} with exit status 2.
// Build (from the repository root):
//   g++ -O2 -std=c++17 -Inative/src native/tools/basis_dump.cpp native/src/gto_basis.cpp
//       native/src/soap_params.cpp -o /tmp/basis_dump
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "gto_basis.h"
#include "soap_params.h"

static void printDouble(double v) { std::printf("%.17g", v); }

static std::string jsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 6 && std::strcmp(argv[4], "--time") == 0)) {
    std::fprintf(stderr, "usage: %s RCUT NMAX LMAX [--time N]\n", argv[0]);
    return 1;
  }
  const double rCut = std::strtod(argv[1], nullptr);
  const int nMax = std::atoi(argv[2]);
  const int lMax = std::atoi(argv[3]);
  soapix::GtoBasis b;
  try {
    b = soapix::makeGtoBasis(rCut, nMax, lMax);
    if (argc == 6) {
      const int reps = std::atoi(argv[5]);
      const auto t0 = std::chrono::steady_clock::now();
      const std::clock_t c0 = std::clock();
      for (int i = 0; i < reps; ++i) b = soapix::makeGtoBasis(rCut, nMax, lMax);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double cpuMs = 1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      const double r = reps > 0 ? reps : 1;
      std::fprintf(stderr, "makeGtoBasis(%g, %d, %d): %.3f ms wall, %.3f ms CPU per call (%d calls)\n", rCut, nMax,
                   lMax, ms / r, cpuMs / r, reps);
    }
  } catch (const soapix::InvalidArgument& e) {
    std::fprintf(stderr, "{\"error\": \"%s\"}\n", jsonEscape(e.what()).c_str());
    return 2;
  }
  const int n = b.nMax, L = b.lMax + 1;
  std::printf("{\"rCut\": ");
  printDouble(rCut);
  std::printf(", \"nMax\": %d, \"lMax\": %d,\n \"alphas\": [", nMax, lMax);
  for (int l = 0; l < L; ++l) {
    std::printf(l ? ",\n  [" : "[");
    for (int k = 0; k < n; ++k) {
      if (k) std::printf(", ");
      printDouble(b.alphas[static_cast<size_t>(l) * n + k]);
    }
    std::printf("]");
  }
  std::printf("],\n \"betas\": [");
  for (int l = 0; l < L; ++l) {
    std::printf(l ? ",\n  [" : "[");
    for (int i = 0; i < n; ++i) {
      std::printf(i ? ", [" : "[");
      for (int k = 0; k < n; ++k) {
        if (k) std::printf(", ");
        printDouble(b.betas[(static_cast<size_t>(l) * n + i) * n + k]);
      }
      std::printf("]");
    }
    std::printf("]");
  }
  std::printf("]}\n");
  return 0;
}
