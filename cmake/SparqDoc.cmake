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
  # The generated page is built with everything, and a test fails when the checked-in copy in
  # docs/generated is stale (fix: ninja sparq-doc, commit).
  add_custom_target(sparq-docgen-${output_name} ALL DEPENDS ${gen})
  add_test(NAME doc-up-to-date-${output_name}
    COMMAND ${CMAKE_COMMAND} -E compare_files ${gen} ${dst})
  set_tests_properties(doc-up-to-date-${output_name} PROPERTIES LABELS "docs")
endfunction()
