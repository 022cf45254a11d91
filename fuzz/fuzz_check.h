#pragma once

// The fuzz targets' invariant check.

#include <cstdio>
#include <cstdlib>

// Not assert(): it must hold in every build type.
#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) { \
            std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
            std::abort(); \
        } \
    } while (false)
