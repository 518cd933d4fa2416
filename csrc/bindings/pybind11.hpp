#pragma once
// Included first by every binding file, so that type casters and macros are the same in
// every translation unit.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;
