// Forced include (-include) of the prebuilt binaries only (scripts/build-prebuild.sh): binds the
// glibc functions whose default symbol version is newer than glibc 2.28 (RHEL / Rocky 8, the
// oldest distribution the prebuilds load on) to their older versions. glibc 2.29 gave exp, log and
// pow new versions that only drop the SVID error handling (matherr); the old versions compute the
// same values with the same code. scripts/check-prebuilds.sh checks the result.
#pragma once

#if defined(__x86_64__)
#define SOAPIX_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define SOAPIX_GLIBC_BASE "GLIBC_2.17"
#endif

#ifdef SOAPIX_GLIBC_BASE
__asm__(".symver exp,exp@" SOAPIX_GLIBC_BASE);
__asm__(".symver log,log@" SOAPIX_GLIBC_BASE);
__asm__(".symver pow,pow@" SOAPIX_GLIBC_BASE);
#endif
