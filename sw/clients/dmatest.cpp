#include "sw/clients/dmatest.h"

#include "sw/dma-mapping/dma_api.h"
#include "sw/kernel/random.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace ioatsim::sw {

namespace {
constexpr uint8_t PATTERN_SRC = 0x80, PATTERN_DST = 0x00, PATTERN_COPY = 0x40,
                  PATTERN_OVERWRITE = 0x20, PATTERN_COUNT_MASK = 0x1f;
constexpr unsigned MAX_ERROR_COUNT = 32;

// Byte i of a region holds pattern | (~counter & 0x1f): a 32-byte cycle. One
// image of it per pattern, a page and a cycle long, is copied from (to fill)
// and compared with (to check) at the region's phase, at memcpy's speed.
constexpr unsigned IMAGE = 4096;
const uint8_t* cycle_image(uint8_t pattern) {
    static std::unique_ptr<uint8_t[]> images[256];
    std::unique_ptr<uint8_t[]>& img = images[pattern];
    if (!img) {
        img.reset(new uint8_t[IMAGE + 32]);
        for (unsigned k = 0; k < IMAGE + 32; ++k) img[k] = uint8_t(pattern | (~k & PATTERN_COUNT_MASK));
    }
    return img.get();
}
void fill_bytes(uint8_t* b, unsigned n, unsigned counter, uint8_t pattern) {
    const uint8_t* img = cycle_image(pattern);
    for (unsigned k = 0; k < n; k += IMAGE) std::memcpy(b + k, img + ((counter + k) & 31), std::min(IMAGE, n - k));
}
bool holds(const uint8_t* b, unsigned n, unsigned counter, uint8_t pattern) {
    const uint8_t* img = cycle_image(pattern);
    for (unsigned k = 0; k < n; k += IMAGE)
        if (std::memcmp(b + k, img + ((counter + k) & 31), std::min(IMAGE, n - k))) return false;
    return true;
}
// Calls fn(offset in the piece, region index, offset in the region, bytes) for
// the part of each region that falls in the piece [off, off + n) of the buffer.
template <class F> void each_region(const dmatest::region (&rs)[3], uint64_t off, uint64_t n, F fn) {
    for (unsigned i = 0; i < 3; ++i) {
        uint64_t s = std::max<uint64_t>(rs[i].start, off), e = std::min<uint64_t>(rs[i].end, off + n);
        if (s < e) fn(s - off, i, unsigned(s - rs[i].start), unsigned(e - s));
    }
}
}  // namespace

dmatest::dmatest(kernel& k, dmaengine& dma, dmatest_params p) : k_(k), dma_(dma), p_(p) {
    for (const char* c : counters) k_.rep().declare(c);
}

bool dmatest::match(dma_chan* c) const {
    return (p_.channel.empty() || c->name == p_.channel) && (p_.device.empty() || c->device->dev_name == p_.device);
}

void dmatest::init() {
    if (dma_.design() == dma_design::client_callbacks) {
        // 2.6.26: a client that takes up to max_channels channels as they are offered.
        client_.name = "dmatest";
        client_.cap_mask.set(DMA_MEMCPY);
        client_.accept = [this](dma_chan* c) {
            int held = 0;
            for (auto& s : slots_) held += s->chan != nullptr;
            return match(c) && (!p_.max_channels || held < p_.max_channels);
        };
        // dmatest_add_channel / dmatest_remove_channel: a channel offered gets its
        // threads; one taken back stops them.
        client_.notify = [this](dma_chan* c, dma_state st) {
            if (st == DMA_RESOURCE_REMOVED) {
                for (auto& s : slots_)
                    if (s->chan == c) s->chan = nullptr;
                return;
            }
            slots_.push_back(std::make_unique<chan_slot>(chan_slot{c, c->name}));
            if (!starting_) start_threads(slots_.size() - 1);
        };
        dma_.dma_async_client_register(&client_);
        dma_.dma_async_client_chan_request(&client_);
        starting_ = false;
        for (size_t i = 0; i < slots_.size(); ++i) start_threads(i);
    } else {
        dma_cap_mask_t mask;
        mask.set(DMA_MEMCPY);
        while (!p_.max_channels || int(slots_.size()) < p_.max_channels) {
            dma_chan* c = dma_.dma_request_channel(mask, [this](dma_chan* ch) { return match(ch); });
            if (!c) break;
            slots_.push_back(std::make_unique<chan_slot>(chan_slot{c, c->name}));
            start_threads(slots_.size() - 1);
        }
    }
    if (slots_.empty()) k_.printk("dmatest: no channels available");
}

// Threads of a channel spread over the CPUs, as kthreads would be scheduled.
void dmatest::start_threads(size_t i) {
    chan_slot* s = slots_[i].get();
    for (int t = 0; t < p_.threads_per_chan; ++t) {
        ++s->threads;
        threads_.push_back({s->name + "-copy" + std::to_string(t)});
        thread_state* me = &threads_.back();
        uint64_t seed = p_.seed * 1000003 + (i + 1) * 1009 + unsigned(t);
        ++running_;
        unsigned cpu = unsigned(i + unsigned(t)) % k_.nr_cpus();
        k_.kthread_run(me->name, cpu, [this, s, me, seed] { thread(s, me, seed); });
    }
    k_.printk(strfmt("dmatest: Started %d threads using %s", p_.threads_per_chan, s->name.c_str()));
}

// Under the per-use designs each test holds a use of the channel. A channel that
// refuses one is going away: the thread stops, as 2.6.26's dmatest stopped a
// channel's threads on DMA_RESOURCE_REMOVED (the 2012 series left dmatest as it
// was; the same rule is assumed [reconstructed]), and the slot's last thread
// gives the private grant back, which the remove path waits for.
bool dmatest::use_channel(chan_slot& s) {
    return !dma_.per_use() || (s.chan && dma_.dma_chan_tryget(s.chan));
}

void dmatest::thread_stopped(chan_slot& s) {
    if (--s.threads || !s.chan || !dma_.per_use() || dma_.design() == dma_design::client_callbacks) return;
    dma_.dma_release_channel(std::exchange(s.chan, nullptr));
}

// The buffer's bytes are written where they are, as the pattern loop does.
void dmatest::fill(uint64_t pa, unsigned size, const region (&rs)[3]) {
    k_.mem_write_in_place(pa, size, [&](uint8_t* p, uint64_t off, uint64_t n) {
        each_region(rs, off, n, [&](uint64_t at, unsigned i, unsigned in, unsigned len) {
            fill_bytes(p + at, len, rs[i].counter + in, rs[i].pattern);
        });
    });
}

// Each region is compared in place with what it should hold; one that differs
// is read and reported byte by byte, at most MAX_ERROR_COUNT lines per region.
unsigned dmatest::verify(uint64_t pa, unsigned size, const region (&rs)[3], bool is_src, const std::string& thread) {
    bool bad[3] = {};
    k_.mem_read_in_place(pa, size, [&](uint8_t* p, uint64_t off, uint64_t n) {
        each_region(rs, off, n, [&](uint64_t at, unsigned i, unsigned in, unsigned len) {
            bad[i] = bad[i] || !holds(p + at, len, rs[i].counter + in, rs[i].pattern);
        });
    });
    unsigned errors = 0;
    for (unsigned r = 0; r < 3; ++r) {
        if (!bad[r]) continue;
        const region& g = rs[r];
        std::vector<uint8_t> buf(g.end - g.start);
        k_.mem_read(pa + g.start, buf.data(), buf.size());
        unsigned shown = 0, counter = g.counter;
        for (unsigned i = g.start; i < g.end; ++i, ++counter) {
            uint8_t actual = buf[i - g.start];
            uint8_t expected = uint8_t(g.pattern | (~counter & PATTERN_COUNT_MASK));
            if (actual == expected) continue;
            ++errors;
            if (shown++ >= MAX_ERROR_COUNT) continue;
            uint8_t diff = actual ^ expected;
            std::string where = strfmt("%s[0x%x]", is_src ? "srcbuf" : "dstbuf", i);
            const char* what = is_src ? "overwritten"
                               : (g.pattern & PATTERN_COPY) && (diff & (PATTERN_COPY | PATTERN_OVERWRITE)) ? "not copied"
                               : (diff & PATTERN_SRC) ? "was copied" : "mismatch";
            k_.printk(strfmt("%s: %s %s! Expected %02x, got %02x", thread.c_str(), where.c_str(), what,
                             expected, actual));
        }
    }
    return errors;
}

void dmatest::thread(chan_slot* slot, thread_state* me, uint64_t seed) {
    report& r = k_.rep();
    const std::string& name = me->name;
    splitmix64 rnd{seed};
    const unsigned size = p_.test_buf_size;
    const bool failback = dma_.fails_back();
    const bool on_node = p_.buffer_node > 0 && alloc_node;  // node 0 is the kernel's pool
    auto kmalloc = [&] { return on_node ? alloc_node(p_.buffer_node, size) : k_.alloc_phys(size, 64); };
    uint64_t src_pa = kmalloc(), dst_pa = kmalloc();
    const bool unmap_early = p_.bug == "unmap_before_complete";
    long total = 0, failed = 0;
    // Shared with the callback, which may outlive a timed-out wait (dmatest leaves
    // it dangling; here it stays valid).
    struct done_state { bool done = false; dmaengine_tx_result result = DMA_TRANS_NOERROR; wait_queue wq; };
    auto done = std::make_shared<done_state>();
    while (p_.iterations == 0 || total < p_.iterations) {
        if (!use_channel(*slot)) {
            k_.printk(strfmt("%s: %s is going away, stopping", name.c_str(), slot->name.c_str()));
            break;
        }
        dma_chan* chan = slot->chan;
        ++total;
        ++r.counter("dmatest.tests");
        unsigned len = rnd.next32() % size + 1;
        unsigned src_off = rnd.next32() % (size - len + 1);
        unsigned dst_off = rnd.next32() % (size - len + 1);
        if (unsigned align = chan->device->copy_align) {
            unsigned a = (1u << align) - 1;
            src_off &= ~a, dst_off &= ~a, len &= ~a;
            if (!len) len = 1u << align;
        }
        // The counter is the byte's index: in the destination's copied window
        // the source's bytes are expected, counted from src_off.
        const region src_regions[3] = {{0, src_off, 0, PATTERN_SRC},
                                       {src_off, src_off + len, src_off, PATTERN_SRC | PATTERN_COPY},
                                       {src_off + len, size, src_off + len, PATTERN_SRC}};
        const region dst_regions[3] = {{0, dst_off, 0, PATTERN_DST},
                                       {dst_off, dst_off + len, dst_off, PATTERN_DST | PATTERN_OVERWRITE},
                                       {dst_off + len, size, dst_off + len, PATTERN_DST}};
        fill(src_pa, size, src_regions);
        fill(dst_pa, size, dst_regions);
        k_.cost_mem(src_pa, size, k_.config().byte_loop_gbps);
        k_.cost_mem(dst_pa, size, k_.config().byte_loop_gbps);

        // With fail-back, a copy the channel failed back is done on the CPU.
        auto cpu_redo = [&] {
            std::vector<uint8_t> b(len);
            k_.mem_read(src_pa + src_off, b.data(), len);
            k_.mem_write(dst_pa + dst_off, b.data(), len);
            k_.cost_copy(dst_pa + dst_off, src_pa + src_off, len);
            ++ledger_.failed_back;
        };
        auto done_with = [&] { dma_.dma_put_channel(chan); };
        // 3.4: the source window mapped TO_DEVICE (the driver unmaps it at
        // completion: DMA_COMPL_SRC_UNMAP_SINGLE), the whole destination
        // BIDIRECTIONAL "to force writeback/invalidate", unmapped here once the
        // test completed (DMA_COMPL_SKIP_DEST_UNMAP). Neither is checked with
        // dma_mapping_error, as in 3.4.
        pci_dev* dev = chan->device->dev;
        const dma_addr_t dma_src = dma_map_single(dev, src_pa + src_off, len, DMA_TO_DEVICE);
        const dma_addr_t dma_dst = dma_map_single(dev, dst_pa, size, DMA_BIDIRECTIONAL);
        bool dst_mapped = true;
        auto unmap_dst = [&] {
            if (dst_mapped) dma_unmap_single(dev, dma_dst, size, DMA_BIDIRECTIONAL);
            dst_mapped = false;
        };
        unsigned flags = DMA_CTRL_ACK | DMA_PREP_INTERRUPT | DMA_COMPL_SKIP_DEST_UNMAP |
                         DMA_COMPL_SRC_UNMAP_SINGLE;
        dma_.client_touch(chan, "prep_dma_memcpy");
        dma_async_tx_descriptor* tx =
            chan->device->prep_dma_memcpy(chan, dma_dst + dst_off, dma_src, len, flags);
        if (!tx) {
            dma_unmap_single(dev, dma_src, len, DMA_TO_DEVICE);
            unmap_dst();
            k_.printk(strfmt("%s: #%ld: prep error with src_off=0x%x dst_off=0x%x len=0x%x",
                             name.c_str(), total - 1, src_off, dst_off, len));
            ++r.counter("dmatest.prep_errors");
            ++r.counter("dmatest.failures");
            ++failed;
            done_with();
            k_.msleep(100);
            continue;
        } else {
            done = std::make_shared<done_state>();
            if (failback)
                tx->callback_result = [done](const dmaengine_result& res) {
                    done->result = res.result;
                    done->done = true;
                    done->wq.wake_up_all();
                };
            else
                tx->callback = [done] { done->done = true; done->wq.wake_up_all(); };
            dma_cookie_t cookie = dmaengine::dmaengine_submit(tx);
            if (dma_submit_error(cookie)) {
                k_.printk(strfmt("%s: #%ld: submit error %d", name.c_str(), total - 1, cookie));
                ++r.counter("dmatest.submit_errors");
                ++r.counter("dmatest.failures");
                ++failed;
                done_with();
                k_.msleep(100);
                continue;
            }
            ++ledger_.submitted;
            dmaengine::dma_async_issue_pending(chan);
            if (unmap_early) unmap_dst();  // the injected bug: the engine may not have written it yet
            me->awaited = chan;
            bool came = k_.wait_event_timeout(done->wq, [&] { return done->done; }, p_.timeout);
            me->awaited = nullptr;
            if (!came) {
                // The callback may still run later; as in dmatest, it is left dangling.
                k_.printk(strfmt("%s: #%ld: test timed out", name.c_str(), total - 1));
                ++r.counter("dmatest.timeouts");
                ++ledger_.lost;
                r.violation(k_.now(), "copy_lost", name + ": copy neither completed nor failed back");
                ++r.counter("dmatest.failures");
                ++failed;
                done_with();
                continue;
            }
            if (done->result != DMA_TRANS_NOERROR) {
                done_with();
                unmap_dst();
                cpu_redo();
            } else {
                dma_status status = dmaengine::dma_async_is_tx_complete(chan, cookie);
                ++ledger_.completed;  // reported done, with whatever status
                done_with();
                if (status != DMA_SUCCESS) {
                    k_.printk(strfmt("%s: #%ld: got completion callback, but status is '%s'", name.c_str(),
                                     total - 1, status == DMA_ERROR ? "error" : "in progress"));
                    ++r.counter("dmatest.bad_status");
                    r.violation(k_.now(), "copy_failed", name + ": completion callback with a bad status");
                    ++r.counter("dmatest.failures");
                    ++failed;
                    continue;
                }
                unmap_dst();  // "Unmap by myself", only after a good completion (3.4)
            }
        }
        r.counter("dmatest.bytes") += len;
        k_.cost_mem(src_pa, size, k_.config().byte_loop_gbps);
        k_.cost_mem(dst_pa, size, k_.config().byte_loop_gbps);
        const region dst_copied[3] = {dst_regions[0],
                                      {dst_off, dst_off + len, src_off, PATTERN_SRC | PATTERN_COPY},
                                      dst_regions[2]};
        unsigned errors = verify(src_pa, size, src_regions, true, name) +
                          verify(dst_pa, size, dst_copied, false, name);
        if (errors) {
            k_.printk(strfmt("%s: #%ld: %u errors with src_off=0x%x dst_off=0x%x len=0x%x", name.c_str(),
                             total - 1, errors, src_off, dst_off, len));
            ++r.counter("dmatest.data_mismatch");
            r.violation(k_.now(), "copy_corrupt", name + ": verification failed");
            ++r.counter("dmatest.failures");
            ++failed;
        } else {
            r.sample("bytes.delivered", k_.now(), len);
            ++ledger_.done;
        }
    }
    k_.printk(strfmt("%s: terminating after %ld tests, %ld failures (status %d)", name.c_str(), total,
                     failed, 0));
    for (uint64_t pa : {src_pa, dst_pa}) on_node ? free_node(pa) : k_.free_phys(pa);
    thread_stopped(*slot);
    if (--running_ == 0) {
        if (dma_.design() == dma_design::client_callbacks) dma_.dma_async_client_unregister(&client_);
        else
            for (auto& s : slots_)
                if (s->chan) dma_.dma_release_channel(std::exchange(s->chan, nullptr));
    }
}

void dmatest::finish() {
    for (auto& t : threads_) {
        if (!t.awaited) continue;
        if (!dma_.gone(t.awaited->device)) {
            ++ledger_.in_flight;
            continue;
        }
        ++ledger_.lost;
        k_.rep().violation(k_.now(), "copy_lost", t.name + ": a copy on " + t.awaited->name + ", whose device is gone");
    }
}

}  // namespace ioatsim::sw
