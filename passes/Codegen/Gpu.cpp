//===- passes/Codegen/Gpu.cpp - buffers and loops of the CUDA target -----------===//
//
// The CUDA target (sparq-compile --target=cuda, docs/cuda.md) runs the whole model on the GPU:
// every loop nest of the buffer-level code becomes a kernel, the host code only allocates,
// copies and launches. sparq-gpu-map-loops maps the parallel loops to blocks and threads,
// sparq-gpu-place-buffers puts the host's buffers in device memory, and
// sparq-gpu-resident-weights gives the kernels device copies of the weights, uploaded once.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <algorithm>

namespace sparq {
#define GEN_PASS_DEF_GPUMAPLOOPSPASS
#define GEN_PASS_DEF_GPUPLACEBUFFERSPASS
#define GEN_PASS_DEF_GPURESIDENTWEIGHTSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// The module attribute that lists the constant globals the kernels read: name -> bytes.
constexpr llvm::StringLiteral kResidentAttr = "sparq.gpu.resident";

/// Whether `op` itself reads or writes buffer contents (not only their sizes or addresses).
bool accessesBuffers(Operation *op) {
  return isa<memref::LoadOp, memref::StoreOp, memref::AtomicRMWOp, memref::GenericAtomicRMWOp,
             memref::CopyOp, vector::TransferReadOp, vector::TransferWriteOp, vector::LoadOp,
             vector::StoreOp, vector::MaskedLoadOp, vector::MaskedStoreOp, vector::GatherOp,
             vector::ScatterOp, linalg::LinalgOp>(op);
}

bool containsBufferAccess(Operation *op) {
  return op
      ->walk([](Operation *nested) {
        return accessesBuffers(nested) ? WalkResult::interrupt() : WalkResult::advance();
      })
      .wasInterrupted();
}

bool containsParallelLoop(Operation *op) {
  return op->walk([](scf::ParallelOp) { return WalkResult::interrupt(); }).wasInterrupted();
}

bool isContiguous(Type t) {
  auto m = dyn_cast<MemRefType>(t);
  return m && m.getLayout().isIdentity();
}

struct GpuMapLoopsPass : public sparq::impl::GpuMapLoopsPassBase<GpuMapLoopsPass> {
  using GpuMapLoopsPassBase::GpuMapLoopsPassBase;

  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      getOperation().emitError("sparq-gpu-map-loops: block-size must be 1..1024, not ")
          << blockSize;
      return signalPassFailure();
    }
    // Kernels may call functions of the module (outlining copies them into the kernel's
    // module: the integer power helpers of convert-math-to-funcs); declarations are the CPU
    // runtime's (strings), and host-level calls work on host memory (the buffer deallocation
    // helper): neither can run with the model on the GPU.
    auto module = getOperation()->getParentOfType<ModuleOp>();
    WalkResult call = getOperation().walk([&](func::CallOp c) {
      auto callee = module ? module.lookupSymbol<func::FuncOp>(c.getCalleeAttr()) : nullptr;
      if (callee && !callee.isExternal() && c->getParentOfType<scf::ParallelOp>())
        return WalkResult::advance();
      // The tensor-core products (sparq-gpu-tensor-cores): host calls on device buffers.
      if (callee && callee.isExternal() && callee.getName().starts_with("sparq_uk_gpu_mma") &&
          !c->getParentOfType<scf::ParallelOp>())
        return WalkResult::advance();
      c.emitError("the CUDA target cannot call '")
          << c.getCallee() << "' (it runs on the CPU only)" << sparq::onnxNodeSuffix(c);
      return WalkResult::interrupt();
    });
    if (call.wasInterrupted())
      return signalPassFailure();
    SmallVector<scf::ParallelOp> loops;
    if (failed(collect(getOperation().getBody(), loops)))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : loops)
      if (failed(map(rewriter, loop)))
        return signalPassFailure();
  }

  /// Walks the host code of `region`: parallel loops go to `loops`, buffer accesses outside
  /// them become one-thread kernels, host control flow around loops is entered.
  LogicalResult collect(Region &region, SmallVectorImpl<scf::ParallelOp> &loops) {
    for (Block &block : region) {
      for (Operation &op : llvm::make_early_inc_range(block)) {
        if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
          loops.push_back(loop);
          continue;
        }
        // A copy the host can do with one memcpy stays (sparq-gpu-place-buffers).
        if (auto copy = dyn_cast<memref::CopyOp>(op))
          if (isContiguous(copy.getSource().getType()) &&
              isContiguous(copy.getTarget().getType()))
            continue;
        bool hostControl = isa<scf::ForOp, scf::IfOp, scf::IndexSwitchOp, scf::WhileOp,
                               scf::ExecuteRegionOp, memref::AllocaScopeOp>(op);
        bool usedResults =
            llvm::any_of(op.getResults(), [](Value v) { return !v.use_empty(); });
        bool checks = op.walk([](cf::AssertOp) { return WalkResult::interrupt(); })
                          .wasInterrupted();
        if (containsParallelLoop(&op) || (hostControl && (usedResults || checks))) {
          // Host control flow around kernels, whose results the host uses or with run-time
          // checks (they end the invocation from the host): its body is host code too.
          if (!hostControl)
            return op.emitError("the CUDA target cannot run '")
                   << op.getName() << "' around parallel loops" << sparq::onnxNodeSuffix(&op);
          for (Region &nested : op.getRegions())
            if (failed(collect(nested, loops)))
              return failure();
          continue;
        }
        if (!containsBufferAccess(&op))
          continue;
        if (auto load = dyn_cast<memref::LoadOp>(op)) {
          if (usedResults)
            loops.push_back(hostRead(load));
          else
            load.erase();
          continue;
        }
        if (usedResults)
          return op.emitError("the CUDA target does not yet support '")
                 << op.getName() << "' on the host (it reads a buffer and the host uses its "
                 << "result)" << sparq::onnxNodeSuffix(&op);
        loops.push_back(serialKernel(&op));
      }
    }
    return success();
  }

  /// A value the host reads from a buffer: a one-thread kernel copies the element into a
  /// buffer of its own, which the host reads (sparq-gpu-place-buffers copies it over). Returns
  /// the kernel's loop.
  scf::ParallelOp hostRead(memref::LoadOp load) {
    OpBuilder b(load);
    Location loc = load.getLoc();
    auto scalarType = MemRefType::get({}, load.getType());
    Value scalar = memref::AllocOp::create(b, loc, scalarType);
    auto element = memref::LoadOp::create(b, loc, load.getMemRef(), load.getIndices());
    auto store = memref::StoreOp::create(b, loc, element, scalar, ValueRange{});
    scf::ParallelOp kernel = serialKernel(element);
    store->moveBefore(kernel.getBody()->getTerminator());
    b.setInsertionPoint(load);
    auto read = memref::LoadOp::create(b, loc, scalar, ValueRange{});
    memref::DeallocOp::create(b, loc, scalar);
    load.getResult().replaceAllUsesWith(read.getResult());
    load.erase();
    return kernel;
  }

  /// Moves `op` into a parallel loop of one iteration: a kernel of one thread.
  scf::ParallelOp serialKernel(Operation *op) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ParallelOp::create(b, loc, ValueRange{zero}, ValueRange{one},
                                        ValueRange{one});
    op->moveBefore(loop.getBody()->getTerminator());
    return loop;
  }

  LogicalResult map(IRRewriter &rewriter, scf::ParallelOp loop) {
    if (loop.getNumReductions() != 0)
      return loop.emitError("the CUDA target does not yet map parallel loops with reductions")
             << sparq::onnxNodeSuffix(loop);
    MLIRContext *ctx = &getContext();
    // One dimension, innermost fastest: neighbouring threads, neighbouring elements.
    if (loop.getNumLoops() > 1) {
      std::vector<unsigned> all(loop.getNumLoops());
      for (unsigned i = 0; i < all.size(); ++i)
        all[i] = i;
      // The collapsed loop replaces `loop`: it is the first parallel loop after the op before.
      Operation *before = loop->getPrevNode();
      Block *block = loop->getBlock();
      rewriter.setInsertionPoint(loop);
      collapseParallelLoops(rewriter, loop, {all});
      Operation *next = before ? before->getNextNode() : &block->front();
      while (next && !isa<scf::ParallelOp>(next))
        next = next->getNextNode();
      if (!next)
        return emitError(block->getParentOp()->getLoc(),
                         "internal error: collapsing a parallel loop lost it");
      loop = cast<scf::ParallelOp>(next);
    }
    // Blocks of `blockSize` threads, fewer for a loop known to be shorter.
    int64_t tile = blockSize;
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()[0]);
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound()[0]);
    std::optional<int64_t> step = getConstantIntValue(loop.getStep()[0]);
    if (lb && ub && step && *step > 0)
      tile = std::clamp<int64_t>((*ub - *lb + *step - 1) / *step, 1, blockSize);
    auto [outer, inner] = scf::tileParallelLoop(loop, {tile}, /*noMinMaxBounds=*/true);
    AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
    auto dim = [&](gpu::Processor p) {
      return gpu::ParallelLoopDimMappingAttr::get(ctx, p, id, id);
    };
    if (failed(gpu::setMappingAttr(outer, {dim(gpu::Processor::BlockX)})) ||
        failed(gpu::setMappingAttr(inner, {dim(gpu::Processor::ThreadX)})))
      return loop.emitError("internal error: cannot map a parallel loop to the GPU");
    // Parallel loops inside a thread run sequentially in it (innermost first, so that each
    // is rewritten before the loop around it).
    SmallVector<scf::ParallelOp> nested;
    inner.getBody()->walk<WalkOrder::PostOrder>([&](scf::ParallelOp p) { nested.push_back(p); });
    for (scf::ParallelOp p : nested) {
      if (p.getNumReductions() != 0)
        return p.emitError("the CUDA target does not yet map parallel loops with reductions")
               << sparq::onnxNodeSuffix(p);
      sequentialize(rewriter, p);
    }
    return success();
  }

  /// Replaces `p` by a nest of scf.for loops with its body.
  static void sequentialize(IRRewriter &rewriter, scf::ParallelOp p) {
    rewriter.setInsertionPoint(p);
    scf::LoopNest nest = scf::buildLoopNest(rewriter, p.getLoc(), p.getLowerBound(),
                                            p.getUpperBound(), p.getStep());
    SmallVector<Value> ivs;
    for (scf::ForOp loop : nest.loops)
      ivs.push_back(loop.getInductionVar());
    Block *body = p.getBody();
    rewriter.eraseOp(body->getTerminator());
    rewriter.inlineBlockBefore(body, nest.loops.back().getBody()->getTerminator(), ivs);
    rewriter.eraseOp(p);
  }
};

/// The buffer `v` is a view of (through view-like ops), or `v`.
Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

struct GpuPlaceBuffersPass : public sparq::impl::GpuPlaceBuffersPassBase<GpuPlaceBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::MapVector<StringRef, int64_t> resident;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(place(func, resident)))
        return signalPassFailure();
    }
    if (resident.empty())
      return;
    Builder b(&getContext());
    SmallVector<NamedAttribute> entries;
    for (auto &[name, bytes] : resident)
      entries.push_back(b.getNamedAttr(name, b.getI64IntegerAttr(bytes)));
    module->setAttr(kResidentAttr, b.getDictionaryAttr(entries));
  }

  static Value deviceAlloc(OpBuilder &b, Location loc, MemRefType type, ValueRange dynSizes,
                           ValueRange symbols) {
    return gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(), ValueRange{}, dynSizes,
                                symbols, /*hostShared=*/false)
        .getMemref();
  }

  /// Replaces a host allocation (memref.alloc or memref.alloca) by a device allocation of the
  /// same type and sizes; returns it.
  template <typename AllocLike> static Value toDevice(OpBuilder &b, AllocLike op) {
    b.setInsertionPoint(op);
    Value dev = deviceAlloc(b, op.getLoc(), op.getType(), op.getDynamicSizes(),
                            op.getSymbolOperands());
    op.getResult().replaceAllUsesWith(dev);
    op.erase();
    return dev;
  }

  /// The dynamic sizes of `buffer` (an identity-layout memref).
  static SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc, Value buffer) {
    SmallVector<Value> sizes;
    auto type = cast<MemRefType>(buffer.getType());
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (type.isDynamicDim(i))
        sizes.push_back(memref::DimOp::create(b, loc, buffer, i));
    return sizes;
  }

  LogicalResult place(func::FuncOp func, llvm::MapVector<StringRef, int64_t> &resident) {
    // Host code may not read or write buffers any more (sparq-gpu-map-loops moved every access
    // into a kernel); contiguous copies are the exception, done by the driver.
    SmallVector<memref::LoadOp> hostReads;
    WalkResult bad = func.walk([&](Operation *op) {
      if (auto load = dyn_cast<memref::LoadOp>(op))
        if (load.getMemRefType().getRank() == 0) {
          hostReads.push_back(load);
          return WalkResult::advance();
        }
      if (isa<memref::CopyOp>(op) || !accessesBuffers(op))
        return WalkResult::advance();
      op->emitError("the CUDA target cannot run '")
          << op->getName() << "' on the host" << sparq::onnxNodeSuffix(op);
      return WalkResult::interrupt();
    });
    if (bad.wasInterrupted())
      return failure();

    OpBuilder b(func.getContext());
    // Host allocations -> device allocations (stack buffers are freed before each return).
    SmallVector<Value> freeAtReturn;
    WalkResult failedAlloc = func.walk([&](Operation *op) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (!alloc.getType().getLayout().isIdentity()) {
          alloc.emitError("the CUDA target needs identity-layout allocations");
          return WalkResult::interrupt();
        }
        toDevice(b, alloc);
      } else if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
        if (!alloca.getType().getLayout().isIdentity() ||
            alloca->getParentOp() != func.getOperation()) {
          alloca.emitError("the CUDA target cannot place this stack buffer");
          return WalkResult::interrupt();
        }
        freeAtReturn.push_back(toDevice(b, alloca));
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        b.setInsertionPoint(dealloc);
        gpu::DeallocOp::create(b, dealloc.getLoc(), Type(), ValueRange{}, dealloc.getMemref());
        dealloc.erase();
      }
      return WalkResult::advance();
    });
    if (failedAlloc.wasInterrupted())
      return failure();

    // Arguments: device copies on entry.
    Block &entry = func.getBody().front();
    for (BlockArgument arg : entry.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || llvm::all_of(arg.getUsers(), [](Operation *u) { return isa<memref::DimOp>(u); }))
        continue;
      if (!type.getLayout().isIdentity())
        return func.emitError("the CUDA target needs identity-layout memref arguments");
      b.setInsertionPointToStart(&entry);
      Location loc = arg.getLoc();
      SmallVector<Value> sizes = dynamicSizes(b, loc, arg);
      Value dev = deviceAlloc(b, loc, type, sizes, {});
      auto copy = gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, dev, arg);
      llvm::SmallPtrSet<Operation *, 4> keep{copy.getOperation()};
      for (Value size : sizes)
        keep.insert(size.getDefiningOp());
      arg.replaceAllUsesExcept(dev, keep);
      freeAtReturn.push_back(dev);
    }

    // Contiguous copies -> driver copies.
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp c) { copies.push_back(c); });
    for (memref::CopyOp c : copies) {
      b.setInsertionPoint(c);
      gpu::MemcpyOp::create(b, c.getLoc(), Type(), ValueRange{}, c.getTarget(), c.getSource());
      c.erase();
    }

    // Scalars the host reads (sparq-gpu-map-loops put them in buffers of their own): copied
    // into a stack slot of the host's, one per read, made once on entry.
    for (memref::LoadOp load : hostReads) {
      b.setInsertionPointToStart(&entry);
      Value slot = memref::AllocaOp::create(b, load.getLoc(), load.getMemRefType());
      b.setInsertionPoint(load);
      gpu::MemcpyOp::create(b, load.getLoc(), Type(), ValueRange{}, slot, load.getMemRef());
      load->setOperand(0, slot);
    }

    // Constant buffers the kernels read.
    ModuleOp module = func->getParentOfType<ModuleOp>();
    WalkResult mutableGlobal = func.walk([&](memref::GetGlobalOp get) {
      auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
      if (!global || global->hasAttr(sparq::kGpuHostOnlyAttr))
        return WalkResult::advance();
      // Uploaded once: only constants may be.
      if (!global.getConstant()) {
        get.emitError("the CUDA target cannot place the mutable global '")
            << global.getSymName() << "' in device memory" << sparq::onnxNodeSuffix(get);
        return WalkResult::interrupt();
      }
      MemRefType type = global.getType();
      int64_t bytes = type.getNumElements() *
                      std::max<int64_t>(1, (type.getElementTypeBitWidth() + 7) / 8);
      resident[global.getSymName()] = bytes;
      return WalkResult::advance();
    });
    if (mutableGlobal.wasInterrupted())
      return failure();

    // Returns: outputs go back to host buffers (the ABI's outputs live in host memory).
    SmallVector<func::ReturnOp> returns;
    func.walk([&](func::ReturnOp r) { returns.push_back(r); });
    for (func::ReturnOp ret : returns) {
      b.setInsertionPoint(ret);
      SmallVector<Value> freed;
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type)
          continue;
        if (!type.getLayout().isIdentity())
          return ret.emitError("the CUDA target needs identity-layout results");
        Location loc = ret.getLoc();
        Value dev = operand.get();
        SmallVector<Value> sizes = dynamicSizes(b, loc, dev);
        Value host = memref::AllocOp::create(b, loc, type, sizes);
        gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, host, dev);
        Value root = rootBuffer(dev);
        if (root.getDefiningOp<gpu::AllocOp>() && !llvm::is_contained(freed, root) &&
            !llvm::is_contained(freeAtReturn, root))
          freed.push_back(root);
        operand.set(host);
      }
      for (Value v : llvm::concat<Value>(freed, freeAtReturn))
        gpu::DeallocOp::create(b, ret.getLoc(), Type(), ValueRange{}, v);
    }
    return success();
  }
};

struct GpuResidentWeightsPass
    : public sparq::impl::GpuResidentWeightsPassBase<GpuResidentWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto resident = module->getAttrOfType<DictionaryAttr>(kResidentAttr);
    if (!resident)
      return;
    module->removeAttr(kResidentAttr);
    OpBuilder b(&getContext());
    auto ptrTy = LLVM::LLVMPointerType::get(&getContext());
    auto i64 = b.getI64Type();
    auto fn = LLVM::lookupOrCreateFn(b, module, "sparq_uk_gpu_resident", {ptrTy, i64, ptrTy},
                                     ptrTy);
    if (failed(fn)) {
      module.emitError("cannot declare sparq_uk_gpu_resident");
      return signalPassFailure();
    }
    // One slot per weight for its device address, null until the first upload.
    SymbolTable symbols(module);
    llvm::StringMap<LLVM::GlobalOp> slots;
    auto slotOf = [&](StringRef name, Location loc) {
      LLVM::GlobalOp &slot = slots[name];
      if (!slot) {
        OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
        slot = LLVM::GlobalOp::create(mb, loc, ptrTy, /*isConstant=*/false,
                                      LLVM::Linkage::Internal, (name + "_device").str(),
                                      Attribute());
        Block *init = mb.createBlock(&slot.getInitializerRegion());
        mb.setInsertionPointToStart(init);
        LLVM::ReturnOp::create(mb, loc, LLVM::ZeroOp::create(mb, loc, ptrTy).getResult());
        symbols.insert(slot); // renamed if the name is taken
      }
      return slot;
    };
    // Host functions only: the device code lives in gpu.module ops (or is a binary by now).
    SmallVector<std::pair<LLVM::AddressOfOp, IntegerAttr>> uses;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      func.walk([&](LLVM::AddressOfOp addr) {
        if (auto bytes = resident.getAs<IntegerAttr>(addr.getGlobalName()))
          uses.emplace_back(addr, bytes);
      });
    for (auto [addr, bytes] : uses) {
      LLVM::GlobalOp slot = slotOf(addr.getGlobalName(), addr.getLoc());
      b.setInsertionPointAfter(addr);
      Value size = LLVM::ConstantOp::create(b, addr.getLoc(), i64, bytes.getInt());
      Value slotAddr = LLVM::AddressOfOp::create(b, addr.getLoc(), slot);
      auto call = LLVM::CallOp::create(b, addr.getLoc(), *fn, ValueRange{addr, size, slotAddr});
      addr.getResult().replaceAllUsesExcept(call.getResult(), call);
    }
  }
};

} // namespace
