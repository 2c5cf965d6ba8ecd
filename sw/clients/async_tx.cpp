#include "sw/clients/async_tx.h"

#include "models/ioat/ops.h"
#include "sw/dma-mapping/dma_api.h"
#include "sw/kernel/random.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace ioatsim::sw {
using models::ioat_ops::gf_exp;
using models::ioat_ops::gf_mul;

namespace {
constexpr ktime_t RAID6_WAIT = 3000 * MSEC;  // raid6test's wait for each recovery

// Host buffers every byte of which is written before it is read: not zeroed first.
using bytes = std::unique_ptr<uint8_t[]>;
bytes uninit(uint64_t n) { return bytes(new uint8_t[n]); }

uint8_t gf_inv(uint8_t v) {
    for (unsigned x = 1; x < 256; ++x)
        if (gf_mul(v, uint8_t(x)) == 1) return uint8_t(x);
    return 0;
}

}  // namespace

async_tx::async_tx(kernel& k, dmaengine& dma, async_tx_config cfg) : k_(k), dma_(dma), cfg_(cfg) {
    for (const char* c : counters) k_.rep().declare(c);
    client_.name = "async_tx";
    client_.cap_mask.set(DMA_ASYNC_TX);
}

void async_tx::init() {
    if (dma_.design() == dma_design::client_callbacks) {
        dma_.dma_async_client_register(&client_);
        dma_.dma_async_client_chan_request(&client_);
    } else {
        dma_.dmaengine_get();
    }
    k_.printk("async_tx: api initialized (async)");
    workers_.assign(unsigned(std::max(cfg_.threads, 0)), {});
    for (int i = 0; i < cfg_.threads; ++i)
        k_.kthread_run(strfmt("raid6test%d", i), unsigned(i) % k_.nr_cpus(), [this, i] { worker(unsigned(i)); });
}

// A chain stays on its dependency's channel; otherwise the CPU's DMA_ASYNC_TX
// channel, looked up without a reference (no CHANNEL_SWITCH on IOAT).
// With per-use references the lookup takes a use, dropped when the operation
// completes (or at once, if it cannot be prepared).
// A dependency already complete is no dependency (and may be freed memory).
dma_chan* async_tx::find_channel(async_submit_ctl& s) {
    if (!tracked()) {
        dma_chan* dep = s.depend_tx ? s.depend_tx->chan : nullptr;
        if (dep && dep->device->cap_mask.test(DMA_ASYNC_TX)) return dep;
        return dma_.dma_find_channel(DMA_ASYNC_TX);
    }
    if (s.depend_tx && !outstanding_.count(s.depend_tx)) s.depend_tx = nullptr;
    if (dma_chan* dep = s.depend_tx ? s.depend_tx->chan : nullptr) return dma_.dma_chan_tryget(dep) ? dep : nullptr;
    return dma_.dma_get_channel(DMA_ASYNC_TX, &client_);
}

void async_tx::put_unused(dma_chan* c) {
    if (c) dma_.dma_put_channel(c);  // nothing without per-use references
}

// Operations followed one by one (not only a chain's last callback) when they
// hold a use of their channel or may be failed back.
bool async_tx::tracked() const { return dma_.per_use() || dma_.fails_back(); }

// Using a descriptor as a dependency acknowledges it: it must not be acked yet.
dma_async_tx_descriptor* async_tx::submit(dma_chan* c, dma_async_tx_descriptor* tx, async_submit_ctl& s) {
    worker_state* w = s.worker >= 0 ? &workers_.at(size_t(s.worker)) : nullptr;
    ++ledger_.submitted;
    if (w) {
        ++w->in_flight;
        w->chan = c;
    }
    // The ledger learns of each operation's end from its callback.
    auto ended = [this, w](bool completed) {
        ++(completed ? ledger_.completed : ledger_.failed_back);
        if (w) --w->in_flight;
    };
    if (tracked()) {
        auto st = std::make_shared<op_state>();
        outstanding_[tx] = st;
        auto end = [this, c, tx, st, ended, cb = s.cb, failed = s.failed](dmaengine_tx_result r) {
            outstanding_.erase(tx);
            st->done = true;
            st->wq.wake_up_all();
            if (r != DMA_TRANS_NOERROR && failed) *failed = true;
            ended(r == DMA_TRANS_NOERROR);
            if (cb) cb();
            dma_.dma_put_channel(c);
        };
        if (dma_.fails_back()) tx->callback_result = [end](const dmaengine_result& r) { end(r.result); };
        else tx->callback = [end] { end(DMA_TRANS_NOERROR); };
    } else {
        tx->callback = [ended, cb = s.cb] {
            ended(true);
            if (cb) cb();
        };
    }
    if (dma_async_tx_descriptor* dep = s.depend_tx) {
        if (dep->flags & DMA_CTRL_ACK)
            k_.rep().violation(k_.now(), "async_tx_ack", "a dependency on " + c->name + " was already acked");
        dep->flags |= DMA_CTRL_ACK;
    }
    dmaengine::dmaengine_submit(tx);
    if (s.flags & ASYNC_TX_ACK) tx->flags |= DMA_CTRL_ACK;
    ++k_.rep().counter("async_tx.ops_dma");
    return tx;
}

// With no channel the operation runs here once its parent is done (3.4:
// async_tx_quiesce). When operations are followed one by one the parent's own
// callback says when (and, through the chain's flag, whether it was failed
// back); the descriptor is not touched.
void async_tx::cpu_fallback(async_submit_ctl& s, const std::function<void()>& op, uint64_t bytes) {
    if (!tracked()) {
        async_tx_quiesce(s.depend_tx);
    } else if (s.depend_tx) {
        auto it = outstanding_.find(s.depend_tx);
        if (it != outstanding_.end()) {
            auto st = it->second;
            k_.wait_event_timeout(st->wq, [&] { return st->done; }, RAID6_WAIT);
        }
        s.depend_tx = nullptr;
    }
    op();
    k_.cost_bytes(bytes, k_.config().memcpy_gbps);
    ++k_.rep().counter("async_tx.ops_cpu");
    ++ledger_.cpu;
    if (s.cb) s.cb();
}

// dma_wait_for_async_tx then ack; 3.4 panics when the wait gives up (5 s).
void async_tx::async_tx_quiesce(dma_async_tx_descriptor*& tx) {
    if (!tx) return;
    if (dma_.dma_sync_wait(tx->chan, tx->cookie) == DMA_ERROR) {
        k_.printk("Kernel panic - not syncing: DMA_ERROR waiting for transaction");
        k_.rep().violation(k_.now(), "bug", "async_tx_quiesce: DMA_ERROR waiting for transaction");
    }
    tx->flags |= DMA_CTRL_ACK;
    tx = nullptr;
}

static unsigned prep_flags(const async_submit_ctl& s) {
    return (s.cb ? DMA_PREP_INTERRUPT : 0u) | (s.flags & ASYNC_TX_FENCE ? DMA_PREP_FENCE : 0u);
}

// The pages an operation hands the engine, mapped on the channel's device as
// 3.4's async_memcpy, do_async_xor and do_async_gen_syndrome map them; what
// an operation the channel would not prepare mapped is unmapped before the
// CPU does it.
namespace {
struct op_maps {
    pci_dev* dev = nullptr;
    uint64_t len = 0;
    std::vector<std::pair<dma_addr_t, dma_data_direction>> maps;
    dma_addr_t map(uint64_t pa, dma_data_direction dir) {
        const dma_addr_t a = dma_map_page(dev, phys_page(pa), phys_offset(pa), len, dir);
        maps.push_back({a, dir});
        return a;
    }
    void unmap_all() {
        for (auto& [a, dir] : maps) dma_unmap_page(dev, a, len, dir);
        maps.clear();
    }
};
}  // namespace

// 3.4: destination FROM_DEVICE, source TO_DEVICE, as pages; the driver unmaps
// both at completion (no DMA_COMPL_SKIP_* flags).
dma_async_tx_descriptor* async_tx::async_memcpy(uint64_t dst, uint64_t src, uint64_t len, async_submit_ctl& s) {
    dma_chan* c = find_channel(s);
    if (c) {
        op_maps m{c->device->dev, len};
        const dma_addr_t d = m.map(dst, DMA_FROM_DEVICE), sa = m.map(src, DMA_TO_DEVICE);
        if (dma_async_tx_descriptor* tx = c->device->prep_dma_memcpy(c, d, sa, len, prep_flags(s)))
            return submit(c, tx, s);
        m.unmap_all();
    }
    put_unused(c);
    cpu_fallback(s, [&] {
        const bytes b = uninit(len);
        k_.mem_read(src, b.get(), len);
        k_.mem_write(dst, b.get(), len);
    }, len);
    return nullptr;
}

dma_async_tx_descriptor* async_tx::async_xor(uint64_t dst, const std::vector<uint64_t>& src, uint64_t len,
                                             async_submit_ctl& s) {
    dma_chan* c = find_channel(s);
    if (c) {
        // The destination BIDIRECTIONAL (it may be a source again), mapped once
        // when it is one of the sources; the others TO_DEVICE.
        op_maps m{c->device->dev, len};
        const dma_addr_t d = m.map(dst, DMA_BIDIRECTIONAL);
        std::vector<uint64_t> ds;
        for (uint64_t a : src) ds.push_back(a == dst ? d : m.map(a, DMA_TO_DEVICE));
        if (dma_async_tx_descriptor* tx = c->device->prep_dma_xor(c, d, ds, len, prep_flags(s)))
            return submit(c, tx, s);
        m.unmap_all();
    }
    put_unused(c);
    cpu_fallback(s, [&] {
        const bytes acc = uninit(len), b = uninit(len);
        for (size_t j = 0; j < src.size(); ++j) {  // the first source read as the sum so far
            k_.mem_read(src[j], j ? b.get() : acc.get(), len);
            if (j) models::ioat_ops::xor_into(acc.get(), b.get(), len);
        }
        if (src.empty()) std::memset(acc.get(), 0, len);
        k_.mem_write(dst, acc.get(), len);
    }, len * src.size());
    return nullptr;
}

namespace {
// P ^= each source, Q ^= coef * each source (starting from zero unless `add`).
void pq_on_cpu(kernel& k, uint64_t p, uint64_t q, const std::vector<uint64_t>& src, const std::vector<uint8_t>& coef,
               uint64_t len, bool add) {
    const bytes pp = uninit(len), qq = uninit(len), b = uninit(len);
    if (add && p) k.mem_read(p, pp.get(), len);
    else std::memset(pp.get(), 0, len);
    if (add && q) k.mem_read(q, qq.get(), len);
    else std::memset(qq.get(), 0, len);
    for (size_t j = 0; j < src.size(); ++j) {
        k.mem_read(src[j], b.get(), len);
        models::ioat_ops::xor_into(pp.get(), b.get(), len);
        models::ioat_ops::gf_mul_xor(coef[j], b.get(), qq.get(), len);
    }
    if (p) k.mem_write(p, pp.get(), len);
    if (q) k.mem_write(q, qq.get(), len);
}
}  // namespace

// More sources than the channel takes are split as do_async_gen_syndrome does:
// the first operation takes max_pq, each further one DMA_PREP_CONTINUE and
// max_pq - 3 (the driver adds P and Q back as three implied sources), each
// fenced behind the one before on the same channel. An operation the channel
// will not prepare runs on the CPU, continuing from what is done.
dma_async_tx_descriptor* async_tx::async_pq(uint64_t p, uint64_t q, const std::vector<uint64_t>& src,
                                            const std::vector<uint8_t>& coef, uint64_t len, async_submit_ctl& s) {
    dma_chan* c = find_channel(s);
    // P and Q BIDIRECTIONAL (the engine reads them back when continuing), the
    // sources TO_DEVICE, all before the first part is prepared.
    op_maps m{c ? c->device->dev : nullptr, len};
    uint64_t dst[2] = {p && c ? m.map(p, DMA_BIDIRECTIONAL) : p, q && c ? m.map(q, DMA_BIDIRECTIONAL) : q};
    std::vector<uint64_t> dsrc;
    for (uint64_t a : src) dsrc.push_back(c ? m.map(a, DMA_TO_DEVICE) : a);
    const unsigned disable = (p ? 0u : DMA_PREP_PQ_DISABLE_P) | (q ? 0u : DMA_PREP_PQ_DISABLE_Q);
    size_t off = 0;
    dma_async_tx_descriptor* tx = nullptr;
    async_submit_ctl part = s;
    while (c && off < src.size()) {
        const size_t max = c->device->max_pq, room = off ? (max > 3 ? max - 3 : 0) : max;
        const size_t n = std::min(room, src.size() - off);
        const bool last = off + n == src.size();
        part = s;
        if (!last) {
            part.flags = (s.flags & ~ASYNC_TX_ACK) | ASYNC_TX_FENCE;
            part.cb = nullptr;
        }
        if (off) part.flags |= ASYNC_TX_FENCE;
        part.depend_tx = off ? tx : s.depend_tx;
        unsigned flags = prep_flags(part) | disable | (off ? DMA_PREP_CONTINUE : 0u);
        std::vector<uint64_t> ps(dsrc.begin() + long(off), dsrc.begin() + long(off + n));
        std::vector<uint8_t> pc(coef.begin() + long(off), coef.begin() + long(off + n));
        dma_async_tx_descriptor* next = n ? c->device->prep_dma_pq(c, dst, ps, pc, len, flags) : nullptr;
        if (!next) break;
        tx = submit(c, next, part);
        off += n;
        if (!last && !(c = dma_.dma_chan_tryget(c) ? c : nullptr)) break;  // the next part holds its own use
    }
    if (off == src.size()) return tx;
    if (!off) m.unmap_all();  // nothing went to the engine
    put_unused(c);
    part = s;
    part.depend_tx = off ? tx : s.depend_tx;
    std::vector<uint64_t> rest(src.begin() + long(off), src.end());
    std::vector<uint8_t> rest_coef(coef.begin() + long(off), coef.end());
    cpu_fallback(part, [&] { pq_on_cpu(k_, p, q, rest, rest_coef, len, off != 0); }, len * rest.size());
    return nullptr;
}

// A recovery that lost an operation to a removed channel is redone, with the
// same data, until it goes through (on another channel or on the CPU).
void async_tx::worker(unsigned id) {
    for (uint64_t it = 0; cfg_.iterations == 0 || it < uint64_t(cfg_.iterations);) {
        // The workload stands for md's raid5d, whose loop yields with cond_resched
        // [inference]; a recovery done on the CPU never sleeps.
        k_.cond_resched();
        outcome o = recover_once(id, it);
        if (o == outcome::stop) return;
        if (o == outcome::redo) ++k_.rep().counter("raid6.redone");
        else ++it;
    }
}

// raid6test: P/Q over the data disks, two data disks lost, recovered by the
// 2-data chain (syndrome of the survivors, xor with P and Q, sum-product, xor),
// each step fenced behind the one before on the same channel.
async_tx::outcome async_tx::recover_once(unsigned id, uint64_t it) {
    report& rep = k_.rep();
    const unsigned data = unsigned(cfg_.disks - 2);
    const uint64_t len = cfg_.block;
    std::vector<uint64_t> blk(data + 4);  // data..., P, Q, dp, dq
    for (auto& b : blk) b = k_.alloc_phys(len, 4096);
    uint64_t P = blk[data], Q = blk[data + 1], dp = blk[data + 2], dq = blk[data + 3];
    splitmix64 r{cfg_.seed * 7919 + id * 104729 + it};
    std::vector<bytes> orig(data);
    for (unsigned d = 0; d < data; ++d) {
        orig[d] = uninit(len);
        uint8_t* o = orig[d].get();
        uint64_t i = 0;
        for (; i + 8 <= len; i += 8) {  // eight bytes of each draw
            const uint64_t v = r.next();
            std::memcpy(o + i, &v, 8);
        }
        if (i < len) {
            const uint64_t v = r.next();
            std::memcpy(o + i, &v, len - i);
        }
        k_.mem_write(blk[d], o, len);
    }
    auto wait = [&](completion& done, const char* what) {
        dma_.dma_issue_pending_all();  // async_tx_issue_pending_all
        kernel::waiting w(k_, strfmt("raid6test: %s", what));
        return k_.wait_for_completion_timeout(done, RAID6_WAIT);
    };
    auto free_all = [&] { for (auto b : blk) k_.free_phys(b); };

    std::vector<uint8_t> coef(data);
    for (unsigned d = 0; d < data; ++d) coef[d] = gf_exp(d);
    auto done = std::make_shared<completion>();
    auto failed = std::make_shared<bool>(false);
    const int me = int(id);
    async_submit_ctl gen{ASYNC_TX_ACK, nullptr, [done] { done->complete(); }, failed, me};
    async_pq(P, Q, std::vector<uint64_t>(blk.begin(), blk.begin() + data), coef, len, gen);
    if (!wait(*done, "gen_syndrome")) {
        k_.printk(strfmt("raid6test%u: gen_syndrome timed out", id));
        ++rep.counter("raid6.failures");
        return outcome::stop;  // its buffers may still be written: keep them
    }
    if (*failed) {
        free_all();
        return outcome::redo;
    }

    unsigned a = unsigned(r.next() % data), b = unsigned(r.next() % (data - 1));
    if (b >= a) ++b;
    if (a > b) std::swap(a, b);
    const bytes zero = uninit(len);
    std::memset(zero.get(), 0, len);
    k_.mem_write(blk[a], zero.get(), len);
    k_.mem_write(blk[b], zero.get(), len);
    std::vector<uint64_t> survivors;
    std::vector<uint8_t> scoef;
    for (unsigned d = 0; d < data; ++d)
        if (d != a && d != b) {
            survivors.push_back(blk[d]);
            scoef.push_back(gf_exp(d));
        }
    uint8_t gba = gf_exp((b - a) % 255), inv = gf_inv(uint8_t(gba ^ 1));
    uint8_t A = gf_mul(gba, inv), B = gf_mul(gf_exp((255 - a) % 255), inv);

    done = std::make_shared<completion>();
    async_submit_ctl s1{0, nullptr, nullptr, failed, me};
    dma_async_tx_descriptor* tx = async_pq(dp, dq, survivors, scoef, len, s1);
    async_submit_ctl s2{ASYNC_TX_FENCE, tx, nullptr, failed, me};
    tx = async_xor(dp, {dp, P}, len, s2);
    async_submit_ctl s3{ASYNC_TX_FENCE, tx, nullptr, failed, me};
    tx = async_xor(dq, {dq, Q}, len, s3);
    async_submit_ctl s4{ASYNC_TX_FENCE, tx, nullptr, failed, me};
    tx = async_pq(0, blk[a], {dp, dq}, {A, B}, len, s4);
    async_submit_ctl s5{ASYNC_TX_FENCE | ASYNC_TX_ACK, tx, [done] { done->complete(); }, failed, me};
    async_xor(blk[b], {blk[a], dp}, len, s5);
    if (!wait(*done, "2data recovery")) {
        k_.printk(strfmt("raid6test%u: 2data recovery of disks %u and %u timed out", id, a, b));
        ++rep.counter("raid6.failures");
        return outcome::stop;
    }
    if (*failed) {
        free_all();
        return outcome::redo;
    }
    const bytes got = uninit(len);
    bool ok = true;
    for (unsigned d : {a, b}) {
        k_.mem_read(blk[d], got.get(), len);
        ok = ok && std::memcmp(got.get(), orig[d].get(), len) == 0;
    }
    k_.cost_mem(blk[a], len, k_.config().memcpy_gbps);
    k_.cost_mem(blk[b], len, k_.config().memcpy_gbps);
    if (ok) {
        ++rep.counter("raid6.recoveries");
        ++ledger_.done;
        rep.sample("bytes.delivered", k_.now(), int64_t(2 * len));
    } else {
        ++rep.counter("raid6.failures");
        rep.violation(k_.now(), "copy_corrupt", strfmt("raid6test%u: disks %u and %u recovered wrong", id, a, b));
    }
    free_all();
    return outcome::ok;
}

void async_tx::finish() {
    for (size_t i = 0; i < workers_.size(); ++i) {
        worker_state& w = workers_[i];
        if (!w.in_flight) continue;
        if (!dma_.gone(w.chan->device)) {
            ledger_.in_flight += w.in_flight;
            continue;
        }
        ledger_.lost += w.in_flight;
        k_.rep().violation(k_.now(), "copy_lost", strfmt("raid6test%zu: %lld operations on %s, whose device is gone",
                                                         i, (long long)w.in_flight, w.chan->name.c_str()));
    }
}

}  // namespace ioatsim::sw
