#include "pybind11.hpp"

void bind_architecture(py::module_& m);
void bind_estimate(py::module_& m);
void bind_hardware(py::module_& m);
void bind_sweep(py::module_& m);

// The core keeps no Python-visible shared state, so it can run without the GIL.
PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
  m.doc() = "scalingperf's C++ cost model (private: use the scalingperf package)";
  bind_architecture(m);
  bind_hardware(m);
  bind_estimate(m);
  bind_sweep(m);
}
