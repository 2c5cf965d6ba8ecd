# Hotplug regression tests for ctest, checked against goldens (ioatsim diff).
#
#   ioatsim_add_regression(NAME SCENARIO <file> GOLDEN <dir>
#                          [DESIGNS <design>...] [SEEDS <n>] [TOLERANCE <file>]
#                          [SET <key=value>...] [JOBS <n>])
#
# Adds one test per design (NAME:DESIGN; NAME alone without DESIGNS), labelled
# hotplug-regression. Each runs the scenario (under that design, with SEEDS
# seeds from run.seed on) and compares it with its golden, GOLDEN/DESIGN (or
# GOLDEN), in two tiers: behaviour exactly, figures within TOLERANCE (a YAML
# file tried before ioatsim's defaults). With IOATSIM_UPDATE_GOLDENS=1 in the
# environment the tests write the goldens instead (ioatsim diff --update):
#
#   IOATSIM_UPDATE_GOLDENS=1 ctest -L hotplug-regression
#
# The program is the `ioatsim` target when the project builds it, else
# IOATSIM_EXECUTABLE (set by find_package(ioatsim)), else `ioatsim` on PATH.
include_guard(GLOBAL)
set(_IOATSIM_REGRESSION_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(ioatsim_add_regression name)
  cmake_parse_arguments(PARSE_ARGV 1 R "" "SCENARIO;GOLDEN;SEEDS;TOLERANCE;JOBS" "DESIGNS;SET")
  if(R_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ioatsim_add_regression(${name}): unknown arguments: ${R_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT R_SCENARIO OR NOT R_GOLDEN)
    message(FATAL_ERROR "ioatsim_add_regression(${name}): SCENARIO and GOLDEN are required")
  endif()
  if(NOT R_SEEDS)
    set(R_SEEDS 1)
  endif()
  if(NOT R_JOBS)
    set(R_JOBS 1)
  endif()
  if(TARGET ioatsim)
    set(exe "$<TARGET_FILE:ioatsim>")
  elseif(IOATSIM_EXECUTABLE)
    set(exe "${IOATSIM_EXECUTABLE}")
  else()
    find_program(IOATSIM_EXECUTABLE ioatsim REQUIRED)
    set(exe "${IOATSIM_EXECUTABLE}")
  endif()
  get_filename_component(scenario "${R_SCENARIO}" ABSOLUTE)
  get_filename_component(golden_root "${R_GOLDEN}" ABSOLUTE)
  set(tolerance "")
  if(R_TOLERANCE)
    get_filename_component(tolerance "${R_TOLERANCE}" ABSOLUTE)
  endif()
  set(designs ${R_DESIGNS})
  if(NOT designs)
    set(designs "")
    list(APPEND designs "-")
  endif()
  foreach(design IN LISTS designs)
    set(sets ${R_SET})
    if(design STREQUAL "-")
      set(test "${name}")
      set(golden "${golden_root}")
    else()
      set(test "${name}:${design}")
      set(golden "${golden_root}/${design}")
      list(APPEND sets "software.dmaengine.design=${design}")
    endif()
    string(MAKE_C_IDENTIFIER "${test}" out)
    # Each KEY=VALUE as its own variable: values may hold anything a list cannot.
    set(set_args "")
    list(LENGTH sets n)
    set(i 0)
    foreach(s IN LISTS sets)
      list(APPEND set_args "-DSET_${i}=${s}")
      math(EXPR i "${i} + 1")
    endforeach()
    add_test(NAME "${test}"
             COMMAND "${CMAKE_COMMAND}" "-DIOATSIM=${exe}" "-DSCENARIO=${scenario}" "-DGOLDEN=${golden}"
                     "-DOUT=${CMAKE_CURRENT_BINARY_DIR}/ioatsim-regression/${out}" "-DSEEDS=${R_SEEDS}"
                     "-DJOBS=${R_JOBS}" "-DTOLERANCE=${tolerance}" "-DSETS=${n}" ${set_args} "-DTEST=${test}"
                     -P "${_IOATSIM_REGRESSION_DIR}/IoatsimRegressionCheck.cmake")
    set_tests_properties("${test}" PROPERTIES LABELS hotplug-regression TIMEOUT 1800)
  endforeach()
endfunction()
