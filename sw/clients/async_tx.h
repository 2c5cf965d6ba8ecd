// async_tx (crypto/async_tx of 3.4, dmaengine-semantics.md §1.10): one dmaengine
// reference at load; memcpy, xor and pq operations that run on the CPU's
// DMA_ASYNC_TX channel with dependency chains (same channel, FENCE for data
// hazards) or, with no channel, on the CPU after waiting for the parent; and a
// raid6test-like workload: generate P/Q, lose two data blocks, recover them.
// Under the per-use designs every operation holds a use of its channel until it
// completes (2012 patch 7); with fail-back a chain that lost an operation is
// reported failed to its submitter, which redoes the recovery. An operation the
// channel will not prepare runs on the CPU, as async_tx always did.
#pragma once
#include "sw/clients/client_config.h"
#include "sw/clients/copy_ledger.h"
#include "sw/dmaengine/client.h"

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace ioatsim::sw {

enum async_tx_flags : unsigned { ASYNC_TX_ACK = 1u << 2, ASYNC_TX_FENCE = 1u << 3 };

struct async_submit_ctl {
    unsigned flags = 0;
    dma_async_tx_descriptor* depend_tx = nullptr;
    std::function<void()> cb;
    std::shared_ptr<bool> failed;  // set when an operation of the chain was failed back
    int worker = -1;               // the raid6 worker submitting, for its copy ledger
};

class async_tx {
public:
    async_tx(kernel& k, dmaengine& dma, async_tx_config cfg = {});
    void init();    // module load: dmaengine_get, start the workers
    // End of run: operations still awaited on a channel whose device has left
    // the dmaengine are lost; the others are in flight.
    void finish();
    const copy_ledger& copies() const { return ledger_; }  // done: recoveries verified

    dma_async_tx_descriptor* async_memcpy(uint64_t dst, uint64_t src, uint64_t len, async_submit_ctl& s);
    dma_async_tx_descriptor* async_xor(uint64_t dst, const std::vector<uint64_t>& src, uint64_t len,
                                       async_submit_ctl& s);
    // P, Q (either 0 to skip) = syndrome of `src` with coefficients `coef`.
    dma_async_tx_descriptor* async_pq(uint64_t p, uint64_t q, const std::vector<uint64_t>& src,
                                      const std::vector<uint8_t>& coef, uint64_t len, async_submit_ctl& s);
    void async_tx_quiesce(dma_async_tx_descriptor*& tx);  // wait for it, ack it, forget it

    static constexpr const char* counters[] = {"async_tx.ops_dma", "async_tx.ops_cpu", "raid6.recoveries",
                                               "raid6.failures", "raid6.redone"};

private:
    bool tracked() const;
    dma_chan* find_channel(async_submit_ctl& s);
    dma_async_tx_descriptor* submit(dma_chan* c, dma_async_tx_descriptor* tx, async_submit_ctl& s);
    void cpu_fallback(async_submit_ctl& s, const std::function<void()>& op, uint64_t bytes);
    void worker(unsigned id);
    enum class outcome { ok, redo, stop };
    outcome recover_once(unsigned id, uint64_t iteration);
    void put_unused(dma_chan* c);

    kernel& k_;
    dmaengine& dma_;
    async_tx_config cfg_;
    dma_client client_;                   // client_callbacks
    // Operations submitted and not yet complete, when followed one by one. A
    // descriptor is read only while it is here: once complete, its channel may
    // free it.
    struct op_state {
        bool done = false;
        wait_queue wq;
    };
    std::map<const dma_async_tx_descriptor*, std::shared_ptr<op_state>> outstanding_;
    struct worker_state {
        int64_t in_flight = 0;       // its operations on a channel, not yet completed or failed back
        dma_chan* chan = nullptr;    // the channel of the last one
    };
    std::vector<worker_state> workers_;
    copy_ledger ledger_;
};

}  // namespace ioatsim::sw
