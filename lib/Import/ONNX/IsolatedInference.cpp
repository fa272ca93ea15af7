//===- lib/Import/ONNX/IsolatedInference.cpp - ONNX shape inference in a child ------===//
//
// The child inherits the parsed model (copy-on-write, no serialization of the weights), runs
// ONNX's InferShapes and writes back one byte of status and either the inferred types (a
// GraphProto holding only value_info and outputs) or the error text. The parent reads the pipe
// with a deadline, then reaps the child.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/IsolatedInference.h"
#include "lib/Import/ONNX/NewerOpsets.h"

#include <onnx/defs/schema.h>
#include <onnx/onnx-ml.pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace sparq {
namespace {

void writeAll(int fd, const std::string &bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    done += size_t(n);
  }
}

/// Calls `fn` on every subgraph (If branches, Loop/Scan bodies) of `g`, depth first in node and
/// attribute order; the child and the parent walk the same model, so the orders agree.
void forEachSubgraph(::onnx::GraphProto &g, const std::function<void(::onnx::GraphProto &)> &fn) {
  for (auto &node : *g.mutable_node())
    for (auto &a : *node.mutable_attribute()) {
      if (a.has_g()) {
        fn(*a.mutable_g());
        forEachSubgraph(*a.mutable_g(), fn);
      }
      for (auto &sub : *a.mutable_graphs()) {
        fn(sub);
        forEachSubgraph(sub, fn);
      }
    }
}

[[noreturn]] void runChild(::onnx::ModelProto &model, int fd) {
  // A crash here must end only the child, quietly: no inherited handlers (LLVM's print a stack
  // dump and remove the parent's temporary files), no output on the parent's terminal.
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGINT, SIGTERM})
    std::signal(sig, SIG_DFL);
  int devNull = ::open("/dev/null", O_WRONLY);
  if (devNull >= 0) {
    ::dup2(devNull, 1);
    ::dup2(devNull, 2);
  }
  std::string out;
  // Strict: an inferred type that contradicts a declared one, or a node inference rejects,
  // is an error. Not check_type: old opsets declare narrower type constraints than exporters
  // used (an int64 Constant at opset 6), which onnxruntime accepts too.
  ::onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/1, /*data_prop=*/true);
  try {
    // Opsets 18-21 and 4-bit types as libonnx 1.12 reads them; the parent restores the types.
    presentToLibonnx(model);
    ::onnx::shape_inference::InferShapes(model, ::onnx::OpSchemaRegistry::Instance(), opts);
    ::onnx::GraphProto types;
    *types.mutable_value_info() = model.graph().value_info();
    *types.mutable_output() = model.graph().output();
    // The types inferred inside subgraphs, one node per subgraph holding only its signature
    // and value_info (no nodes, no initializers).
    forEachSubgraph(*model.mutable_graph(), [&](::onnx::GraphProto &sub) {
      ::onnx::AttributeProto *a = types.add_node()->add_attribute();
      ::onnx::GraphProto *t = a->mutable_g();
      *t->mutable_input() = sub.input();
      *t->mutable_output() = sub.output();
      *t->mutable_value_info() = sub.value_info();
    });
    out = "T" + types.SerializeAsString();
  } catch (const std::exception &e) {
    out = std::string("E") + e.what();
  } catch (...) {
    out = "Ean unknown exception";
  }
  writeAll(fd, out);
  ::close(fd);
  ::_exit(0); // no atexit handlers or static destructors of the parent's state
}

} // namespace

llvm::Error inferShapesIsolated(::onnx::ModelProto &model, unsigned timeoutSeconds) {
  int fds[2];
  if (::pipe(fds) != 0)
    return llvm::createStringError("cannot create a pipe for ONNX shape inference: " +
                                   std::string(std::strerror(errno)));
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return llvm::createStringError("cannot fork for ONNX shape inference: " +
                                   std::string(std::strerror(err)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    runChild(model, fds[1]);
  }
  ::close(fds[1]);

  std::string reply;
  bool timedOut = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  char buf[1 << 16];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1, int(left < 1000 ? left : 1000));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; // EOF: the child exited (or crashed)
    reply.append(buf, size_t(n));
  }
  ::close(fds[0]);
  if (timedOut)
    ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut)
    return llvm::createStringError(
        "ONNX shape inference did not finish within " + std::to_string(timeoutSeconds) +
        " s (libonnx loops over the model's dimensions; the model is likely malformed)");
  if (WIFSIGNALED(status))
    return llvm::createStringError(
        "ONNX shape inference crashed on this model (signal " + std::to_string(WTERMSIG(status)) +
        ", " + strsignal(WTERMSIG(status)) +
        "): libonnx is not safe on this malformed graph; sparq stopped before using it");
  if (reply.empty() || (reply[0] != 'T' && reply[0] != 'E'))
    return llvm::createStringError("ONNX shape inference ended without a result (exit status " +
                                   std::to_string(WEXITSTATUS(status)) + ")");
  if (reply[0] == 'E') {
    std::string msg = reply.substr(1);
    for (char &c : msg)
      if (c == '\n')
        c = ' ';
    return llvm::createStringError("ONNX shape inference rejects the model: " + msg);
  }
  ::onnx::GraphProto types;
  if (!types.ParseFromArray(reply.data() + 1, int(reply.size() - 1)))
    return llvm::createStringError("ONNX shape inference returned unreadable types");
  ::onnx::GraphProto &graph = *model.mutable_graph();
  graph.mutable_value_info()->Swap(types.mutable_value_info());
  if (types.output_size() == graph.output_size())
    graph.mutable_output()->Swap(types.mutable_output());
  int k = 0;
  forEachSubgraph(graph, [&](::onnx::GraphProto &sub) {
    if (k >= types.node_size())
      return;
    ::onnx::GraphProto *t = types.mutable_node(k++)->mutable_attribute(0)->mutable_g();
    if (t->input_size() == sub.input_size())
      sub.mutable_input()->Swap(t->mutable_input());
    if (t->output_size() == sub.output_size())
      sub.mutable_output()->Swap(t->mutable_output());
    sub.mutable_value_info()->Swap(t->mutable_value_info());
  });
  return llvm::Error::success();
}

} // namespace sparq
