#!/usr/bin/env bash
# Remove what a Lambda layer never runs: test suites, C/Cython sources, type stubs, bytecode caches, pycountry's
# translations. Shared objects are left alone (stripping them breaks scipy).
set -euo pipefail
root="$1"
# numpy imports numpy._core.tests._natype at run time (through numpy.testing): that one stays.
find "$root" -type d \( -name tests -o -name test -o -name __pycache__ \) -not -path "*/numpy/_core/tests" -prune \
  -exec rm -rf {} +
find "$root" -type f \( -name "*.pyx" -o -name "*.pxd" -o -name "*.pyi" -o -name "*.c" -o -name "*.cpp" -o -name "*.h" \) -delete
rm -rf "$root"/pycountry/locales
# rapidfuzz ships pure-Python twins of its C++ modules; CodeCarbon only matches one CPU name with it at start-up.
rm -f "$root"/rapidfuzz/*.so "$root"/rapidfuzz/distance/*.so
# scipy parts neither scikit-learn's estimators used here nor CodeCarbon import (io, ndimage, integrate are needed).
for part in signal cluster odr datasets misc fftpack; do rm -rf "$root/scipy/$part"; done
rm -rf "$root"/sklearn/datasets/images
# scipy.io's Matrix Market reader (4 MB) loads only when mmread/mmwrite are called; greenai never does.
rm -f "$root"/scipy/io/_fast_matrix_market/_fmm_core*.so
# The IANA database (python-dateutil pulls it in): greenai works in UTC only, which needs no zone data.
rm -rf "$root"/tzdata "$root"/tzdata-*.dist-info
