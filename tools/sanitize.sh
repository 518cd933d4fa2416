#!/usr/bin/env bash
# The C++ core under AddressSanitizer and UndefinedBehaviorSanitizer (with
# float-cast-overflow: a double converted to an integer it does not fit is undefined),
# built apart from the normal install and run under the test suite, on a small hypothesis
# budget. Any report fails the run.
#
#   bash tools/sanitize.sh            # from the repository root; needs g++ (pip fetches the
#                                     # build requirements into an isolated environment)
set -euo pipefail
cd "$(dirname "$0")/.."

target=build/sanitize/site
rm -rf build/sanitize  # a fresh build: an isolated build environment does not outlive it
flags="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"
# NDEBUG: pybind11 3.0.2 to 3.1.0 assert, wrongly, when a call passes exactly 64 keyword
# arguments (detail/argument_vector.h: small_vector<bool>::set wants size < its inline
# capacity of 64, though a full inline vector is valid), which a grid's base Architecture
# does; the core has no assert of its own, and the sanitizers check every access.
debug="-O1 -DNDEBUG"
pip install --no-deps --quiet --target "$target" \
  -Cbuild-dir=build/sanitize/build -Ccmake.build-type=Debug \
  -Ccmake.define.CMAKE_CXX_FLAGS="$debug $flags" \
  -Ccmake.define.CMAKE_SHARED_LINKER_FLAGS="$flags" \
  -Ccmake.define.CMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF .

# Python itself is not instrumented: the runtime is preloaded, leaks (the interpreter's
# own) are not checked, and every error aborts.
export LD_PRELOAD
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export HYPOTHESIS_PROFILE=sanitize
# -S: no .pth files, so an editable install of the package cannot shadow this build; the
# site-packages directories (numpy, pytest, ...) come after it on the path.
site_dirs=$(python -c 'import site, os; print(os.pathsep.join(site.getsitepackages()))')
target=$(realpath "$target")
export PYTHONPATH="$target:$site_dirs"
root=$(pwd)
cd "$(mktemp -d)"  # not the source tree: `python -m` puts the working folder on the path
python -S -c 'import os, scalingperf._core as c; assert os.path.realpath(c.__file__).startswith("'"$target"'"), c.__file__'
# The whole suite, but the test that runs under an address-space limit: ASan reserves
# terabytes of virtual memory for its shadow, so no such limit can hold under it.
python -S -m pytest -q -p no:cacheprovider -x -c "$root/pyproject.toml" --rootdir "$root" \
  "$root/tests" -k "not keeps_only_its_rows_in_memory"
