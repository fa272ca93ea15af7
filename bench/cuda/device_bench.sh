# bench/cuda/device_bench.sh - sourced by the scripts run on a lent GPU (run_device.sh,
# ab_device.sh), from the repository root: prints the GPU and sets BENCH to the carried
# sparq-gpu-gemm-bench, or to one built with the machine's g++ where the carried one does not
# start (another image's libraries).
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.sm,clocks.mem,memory.total --format=csv
BENCH=build/cuda/sparq-gpu-gemm-bench
"$BENCH" --help >/dev/null 2>&1
if [ $? -ne 2 ]; then
  echo "carried bench does not start here; building it with g++"
  g++ -O2 -std=c++17 -Iinclude -Iruntime/src -Iruntime/kernels bench/cuda/GpuGemmBench.cpp \
    runtime/src/CudaDriver.cpp -ldl -pthread -o /tmp/sparq-gpu-gemm-bench && BENCH=/tmp/sparq-gpu-gemm-bench
fi
