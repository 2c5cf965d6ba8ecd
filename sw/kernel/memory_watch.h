// A model-only watcher of the CPUs' writes to memory (kernel::mem_write, and
// so every store): dma-debug's check of a CPU writing a page a device may be
// writing (sw/dma-mapping, wired by the platform when software.dma_debug is
// on). One watcher per kernel; none costs a pointer compare per write.
#pragma once
#include <cstdint>
#include <functional>

namespace ioatsim::sw {

class kernel;
// `fn` (empty: none) is told each write's physical address and length.
void set_cpu_write_watch(const kernel& k, std::function<void(uint64_t pa, uint64_t len)> fn);

}  // namespace ioatsim::sw
