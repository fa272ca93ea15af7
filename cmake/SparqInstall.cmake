# cmake/SparqInstall.cmake - `cmake --install` layout and the CMake package for find_package(Sparq).
#
#   <prefix>/bin                    sparq-opt, sparq-compile, sparq-run
#   <prefix>/lib                    static libraries, libSparqPlugin.so
#   <prefix>/lib/cmake/sparq        SparqConfig.cmake, SparqTargets.cmake (targets Sparq::*)
#   <prefix>/include/sparq          public headers (InitAll.h, Compiler/, Runtime/, Formats/)
#   <prefix>/include/sparq/dialects, include/sparq/passes
#                                   dialect and pass headers with their generated .inc files
#
# Consumers: find_package(Sparq CONFIG REQUIRED) then link Sparq::SparqRegistration (all
# dialects, passes and pipelines) or single dialect libraries; MLIR 22 is found as a dependency.
include(CMakePackageConfigHelpers)

get_property(SPARQ_SCHEME_LIBRARIES GLOBAL PROPERTY SPARQ_SCHEME_LIBRARIES)
set(SPARQ_EXPORTED_LIBRARIES
  SparqCompressionHost SparqWeightHost SparqDialectCommon SparqONNXDialect SparqWeightDialect
  ${SPARQ_SCHEME_LIBRARIES}
  SparqPasses SparqRegistration SparqImportONNX SparqTargetCPU SparqArtifact SparqCompiler)

foreach(lib ${SPARQ_EXPORTED_LIBRARIES})
  target_include_directories(${lib} INTERFACE
    $<INSTALL_INTERFACE:include>
    $<INSTALL_INTERFACE:include/sparq>)
endforeach()

install(TARGETS ${SPARQ_EXPORTED_LIBRARIES} EXPORT SparqTargets
  ARCHIVE DESTINATION lib LIBRARY DESTINATION lib)
install(TARGETS SparqPlugin LIBRARY DESTINATION lib)
install(TARGETS sparq-opt sparq-compile RUNTIME DESTINATION bin)
install(EXPORT SparqTargets NAMESPACE Sparq:: DESTINATION lib/cmake/sparq)

install(DIRECTORY include/sparq/ DESTINATION include/sparq
  FILES_MATCHING PATTERN "*.h")
foreach(dir dialects passes)
  install(DIRECTORY ${dir}/ DESTINATION include/sparq/${dir}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
  install(DIRECTORY ${CMAKE_BINARY_DIR}/${dir}/ DESTINATION include/sparq/${dir}
    FILES_MATCHING PATTERN "*.inc"
    PATTERN "CMakeFiles" EXCLUDE)
endforeach()

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/SparqConfig.cmake.in
  ${CMAKE_BINARY_DIR}/lib/cmake/sparq/SparqConfig.cmake
  INSTALL_DESTINATION lib/cmake/sparq)
install(FILES ${CMAKE_BINARY_DIR}/lib/cmake/sparq/SparqConfig.cmake
  DESTINATION lib/cmake/sparq)
