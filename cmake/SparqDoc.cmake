# cmake/SparqDoc.cmake - reference docs generated from TableGen.
#
# sparq_add_doc(<td-file> <output-name> <tblgen-flags>...) generates
# docs/generated/<output-name>.md through the `sparq-doc` target.
function(sparq_add_doc td_file output_name)
  set(LLVM_TARGET_DEFINITIONS ${td_file})
  tablegen(MLIR ${output_name}.md ${ARGN})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/${output_name}.md)
  set(dst ${PROJECT_SOURCE_DIR}/docs/generated/${output_name}.md)
  add_custom_command(OUTPUT ${dst}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_SOURCE_DIR}/docs/generated
    COMMAND ${CMAKE_COMMAND} -E copy ${gen} ${dst}
    DEPENDS ${gen})
  add_custom_target(sparq-doc-${output_name} DEPENDS ${dst})
  add_dependencies(sparq-doc sparq-doc-${output_name})
endfunction()
