# -*- Python -*-
# lit configuration for sparq's regression tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "sparq"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.sparq_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "conformance", "install",
                   "unit"]
# A scheme keeps its tests in its own folder (dialects/<Scheme>/test, docs/adding-a-scheme.md);
# the second suite (build/dialects-tests) runs them.
if getattr(config, "sparq_scheme_tests", False):
    config.name = "sparq-schemes"
    config.test_source_root = os.path.join(config.sparq_src_root, "dialects")
    config.test_exec_root = os.path.join(config.sparq_obj_root, "dialects-tests")

# FileCheck, not, count and split-file live in LLVM's bin dir, which is not on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.sparq_tools_dir, append_path=True)
llvm_config.use_default_substitutions()
# A sanitized build (SPARQ_SANITIZE, scripts/test.sh's build-asan): the sanitizers' options
# reach the tools, and tests that load sparq into an uninstrumented program (the plugin into
# Debian's mlir-opt) are unsupported there.
llvm_config.with_system_environment(["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"])
if getattr(config, "sparq_sanitize", ""):
    config.available_features.add("sanitized")

# The real-model corpus (docs/real-models.md): fetched by test/models/real/fetch_models.sh into
# the folder SPARQ_REAL_MODELS names; without it the corpus test is unsupported (skipped).
real_models = os.environ.get("SPARQ_REAL_MODELS", "")
if real_models and os.path.isfile(os.path.join(real_models, "oww_hey_jarvis", "model.onnx")):
    config.available_features.add("real-models")
    config.substitutions.append(("%real_models", real_models))
llvm_config.with_system_environment(["SPARQ_REAL_MODELS"])

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(
    ("%sparq_plugin", os.path.join(config.sparq_obj_root, "lib", "libSparqPlugin.so")))
config.substitutions.append(("%sparq_src", config.sparq_src_root))
# Turns an ONNX textual model into a binary .onnx file (Debian's python3-onnx).
config.substitutions.append(
    ("%onnx-text-to-model",
     config.python_executable + " " +
     os.path.join(config.sparq_src_root, "test", "Inputs", "onnx_text_to_model.py")))

# x86-64 levels the host can run (for tests that compile with --target-cpu x86-64-vN and run
# the result): host-x86-64-v3 (AVX2/FMA), host-x86-64-v4 (AVX-512).
try:
    with open("/proc/cpuinfo") as f:
        cpu_flags = set(next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), []))
except OSError:
    cpu_flags = set()
x86_64_v3 = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}
x86_64_v4 = x86_64_v3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
if x86_64_v3 <= cpu_flags:
    config.available_features.add("host-x86-64-v3")
if x86_64_v4 <= cpu_flags:
    config.available_features.add("host-x86-64-v4")

# The CUDA target (docs/cuda.md): `ptxas` when the CUDA toolkit is installed (kernel images are
# assembled at compile time), `cuda-driver` when this machine can run CUDA artifacts.
cuda_path = os.environ.get("SPARQ_CUDA_PATH", "/usr/local/cuda")
if os.path.isfile(os.path.join(cuda_path, "bin", "ptxas")):
    config.available_features.add("ptxas")
# `cuda-kernels` when this build has the tensor-core kernels' fatbin (nvcc was found), which
# sparq-compile embeds into CUDA artifacts whose compressed layers run on them.
if os.path.isfile(os.path.join(config.sparq_obj_root, "cuda", "MmaGemm.fatbin")):
    config.available_features.add("cuda-kernels")
llvm_config.with_system_environment(["SPARQ_CUDA_PATH", "SPARQ_CUDA_DEVICE"])
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
