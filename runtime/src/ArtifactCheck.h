//===- runtime/src/ArtifactCheck.h - validating an artifact around dlopen -*- C++ -*-===//
//
// dlopen trusts the file it maps: a shared object truncated inside a loadable segment kills
// the process with SIGBUS, a corrupt dynamic table sends the dynamic linker through wild
// pointers, and an ABI symbol that is data gets "called". These checks run before dlopen
// (on the file) and after it (on each ABI symbol) so that such artifacts fail to load with a
// one-line error instead. See docs/runtime.md, "Validation of untrusted inputs".
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_SRC_ARTIFACTCHECK_H
#define SPARQ_RUNTIME_SRC_ARTIFACTCHECK_H

#include "Internal.h"

#include <string>

namespace sparq {
namespace runtime {

/// Checks, without mapping it, that `path` is a regular file holding an ELF shared object for
/// this host whose ELF header, program headers, loadable segments, dynamic table and section
/// headers lie inside the file and point inside the loaded image. The file is opened with
/// O_NONBLOCK, so a FIFO cannot block. Errors read "SUBJECT: REASON".
sparq_status_t checkArtifactFile(const char *path, const std::string &subject);

/// Checks that `address`, which dlsym returned for `symbol` from `handle`, is a function of
/// the loaded artifact itself: defined by its own image, not a data object, and inside one of
/// its executable (PF_X) segments. Errors read "artifact 'PATH': SYMBOL REASON".
sparq_status_t checkArtifactFunction(void *handle, const void *address, const char *symbol,
                                     const std::string &path);

} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_SRC_ARTIFACTCHECK_H
