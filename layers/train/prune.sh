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
