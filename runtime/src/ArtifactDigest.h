//===- runtime/src/ArtifactDigest.h - verify an artifact's content digest -*- C++ -*-===//
#ifndef SPARQ_RUNTIME_SRC_ARTIFACTDIGEST_H
#define SPARQ_RUNTIME_SRC_ARTIFACTDIGEST_H

#include "Internal.h"

#include <string>

namespace sparq {
namespace runtime {

/// Recomputes the content digest of the artifact open on `fd` and compares it with the one its
/// .note.sparq.digest holds (include/sparq/Formats/ArtifactDigest.h). An artifact without the
/// note passes; a mismatch is SPARQ_STATUS_DATA_LOSS, "SUBJECT: its content does not match...".
sparq_status_t checkArtifactDigest(int fd, const std::string &subject);

} // namespace runtime
} // namespace sparq

#endif // SPARQ_RUNTIME_SRC_ARTIFACTDIGEST_H
