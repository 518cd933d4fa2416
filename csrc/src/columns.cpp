#include "scalingperf/columns.hpp"

#include "checks.hpp"

namespace scalingperf {

namespace {
#define SCALINGPERF_ENUM_VALUE(name, integer, value) Column::name,
constexpr Column all_columns[] = {SCALINGPERF_CONFIGURATION_COLUMNS(SCALINGPERF_ENUM_VALUE)
                                      SCALINGPERF_COST_COLUMNS(SCALINGPERF_ENUM_VALUE)};
#undef SCALINGPERF_ENUM_VALUE
}  // namespace

const char* name_of(Column column) {
#define SCALINGPERF_NAME(name, integer, value) \
  case Column::name: return #name;
  switch (column) {
    SCALINGPERF_CONFIGURATION_COLUMNS(SCALINGPERF_NAME)
    SCALINGPERF_COST_COLUMNS(SCALINGPERF_NAME)
  }
#undef SCALINGPERF_NAME
  return "?";
}

bool is_integer(Column column) {
#define SCALINGPERF_INTEGER(name, integer, value) \
  case Column::name: return integer;
  switch (column) {
    SCALINGPERF_CONFIGURATION_COLUMNS(SCALINGPERF_INTEGER)
    SCALINGPERF_COST_COLUMNS(SCALINGPERF_INTEGER)
  }
#undef SCALINGPERF_INTEGER
  return false;
}

int parse_column(const std::string& name) {
  return static_cast<int>(detail::parse("column", name, all_columns));
}

}  // namespace scalingperf
