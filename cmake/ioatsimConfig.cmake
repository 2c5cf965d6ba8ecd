# find_package(ioatsim): the installed program (IOATSIM_EXECUTABLE), its
# scenarios (IOATSIM_SCENARIOS_DIR) and ioatsim_add_regression().
get_filename_component(_ioatsim_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
find_program(IOATSIM_EXECUTABLE ioatsim HINTS "${_ioatsim_prefix}/bin" NO_DEFAULT_PATH)
if(NOT IOATSIM_EXECUTABLE)
  set(ioatsim_FOUND FALSE)
  set(ioatsim_NOT_FOUND_MESSAGE "no ioatsim in ${_ioatsim_prefix}/bin")
  return()
endif()
set(IOATSIM_SCENARIOS_DIR "${_ioatsim_prefix}/share/ioatsim/scenarios")
include("${CMAKE_CURRENT_LIST_DIR}/IoatsimRegression.cmake")
