// The 3.4 dmaengine core and the checker's invariants, each with a case that holds
// and one that breaks it; tracked kernel memory (dma_pool, freed objects).
#include "sw/clients/async_tx.h"
#include "tests/fake_dma.h"
#include "sw/dmaengine/dmaengine.h"
#include "sw/kernel/kernel.h"
#include "sw/kernel/slab.h"

#include <doctest/doctest.h>
#include <systemc>

#include <functional>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

int64_t violations(const char* kind) { return sim_report().get(std::string("violations.") + kind); }

}  // namespace

TEST_CASE("dmaengine_get and put keep client_count, module pins and resources balanced") {
    with_kernel([](kernel& k, dmaengine& dma) {
        module m{"fake"};
        fake_dev d(2);
        d.owner = &m;
        d.dev_name = "fake0";
        dma.dma_async_device_register(&d);
        dma.dmaengine_get();
        dma.dmaengine_get();
        CHECK(d.chans[0]->client_count == 2);
        CHECK(d.chans[1]->client_count == 2);
        CHECK(m.refcnt == 4);
        CHECK(d.allocs == 2);  // on the 0 -> 1 edge only
        CHECK(dma.dma_find_channel(DMA_MEMCPY) != nullptr);
        dma.dmaengine_put();
        dma.dmaengine_put();
        CHECK(d.chans[0]->client_count == 0);
        CHECK(m.refcnt == 0);
        CHECK(d.frees == 2);
        CHECK(violations("client_count") == 0);
        CHECK(violations("table") == 0);
        CHECK(violations("pins") == 0);
    });
}

TEST_CASE("a client_count out of balance with dmaengine_ref_count is reported") {
    with_kernel([](kernel& k, dmaengine& dma) {
        fake_dev d(1);
        dma.dma_async_device_register(&d);
        dma.dmaengine_get();
        dma.check_invariants();
        CHECK(violations("client_count") == 0);
        d.chans[0]->client_count = 5;
        dma.check_invariants();
        CHECK(violations("client_count") >= 1);
    });
}

TEST_CASE("fewer module pins than channel references is reported") {
    with_kernel([](kernel& k, dmaengine& dma) {
        module m{"fake"};
        fake_dev d(1);
        d.owner = &m;
        dma.dma_async_device_register(&d);
        dma.dmaengine_get();
        CHECK(violations("pins") == 0);
        m.refcnt = 0;
        dma.check_invariants();
        CHECK(violations("pins") == 1);
    });
}

TEST_CASE("channel_table slots and table_count are checked") {
    with_kernel([](kernel& k, dmaengine& dma) {
        fake_dev d(1);
        dma.dma_async_device_register(&d);
        dma.dmaengine_get();
        CHECK(violations("table") == 0);
        d.chans[0]->table_count += 3;
        dma.check_invariants();
        CHECK(violations("table") == 1);
    });
}

TEST_CASE("private channels: DMA_PRIVATE, privatecnt and the public-client refusal") {
    with_kernel([](kernel& k, dmaengine& dma) {
        fake_dev d(1);
        dma.dma_async_device_register(&d);
        dma_cap_mask_t mask;
        mask.set(DMA_MEMCPY);
        dma_chan* c = dma.dma_request_channel(mask, nullptr);
        REQUIRE(c != nullptr);
        CHECK(c->client_count == 1);
        CHECK(d.cap_mask.test(DMA_PRIVATE));
        CHECK(d.privatecnt == 1);
        CHECK(dma.dma_request_channel(mask, nullptr) == nullptr);  // its only channel is taken
        dma.dma_release_channel(c);
        CHECK_FALSE(d.cap_mask.test(DMA_PRIVATE));
        CHECK(violations("private") == 0);
        d.privatecnt = 1;  // a grant count without DMA_PRIVATE
        dma.check_invariants();
        CHECK(violations("private") == 1);
    });
}

TEST_CASE("cookies complete in order, a late completion of an earlier cookie is reported") {
    with_kernel([](kernel& k, dmaengine& dma) {
        fake_dev d(1);
        dma.dma_async_device_register(&d);
        dma.dmaengine_get();
        dma_chan* c = d.chans[0].get();
        auto* a = d.prep_dma_memcpy(c, 0, 0, 1, 0);
        auto* b = d.prep_dma_memcpy(c, 0, 0, 1, 0);
        dma_cookie_t ca = dmaengine::dmaengine_submit(a), cb = dmaengine::dmaengine_submit(b);
        CHECK(cb == dma_cookie_next(ca));
        CHECK(dmaengine::dma_async_is_tx_complete(c, ca) == DMA_IN_PROGRESS);
        dma.dma_cookie_complete(a);
        CHECK(dmaengine::dma_async_is_tx_complete(c, ca) == DMA_SUCCESS);
        CHECK(violations("cookie_order") == 0);
        dma.dma_cookie_complete(b);
        a->cookie = ca;  // the same descriptor completed again, after b
        dma.dma_cookie_complete(a);
        CHECK(violations("cookie_order") == 1);
    });
}

TEST_CASE("unregister with clients warns once, frees chan->local, and later use is caught") {
    with_kernel([](kernel& k, dmaengine& dma) {
        fake_dev d(1);
        dma.dma_async_device_register(&d);
        dma.dmaengine_get();
        dma_chan* c = dma.dma_find_channel(DMA_MEMCPY);
        REQUIRE(c != nullptr);
        CHECK(dma.dma_async_memcpy(c, 0x100000, 0x200000, 64) > 0);
        CHECK(violations("use_after_free") == 0);
        dma.dma_async_device_unregister(&d);
        CHECK(dma.dma_find_channel(DMA_MEMCPY) == nullptr);  // rebalanced away
        dma.dma_async_memcpy(c, 0x100000, 0x200000, 64);      // a raw pointer kept from before
        CHECK(violations("use_after_unregister") == 1);
        CHECK(violations("use_after_free") == 1);             // chan->local was freed
        std::string log;
        for (auto& l : sim_report().log_lines()) log += l + "\n";
        CHECK(log.find("dma_async_device_unregister called while 1 clients hold a reference") != std::string::npos);
    });
}

TEST_CASE("dma_pool: busy pages are logged at destroy, later use and double free are caught") {
    with_kernel([](kernel& k, dmaengine&) {
        dma_pool pool(k, "test_pool", "ioatdma 0000:00:16.0", 64, 64);
        uint64_t a = pool.alloc(), b = pool.alloc();
        CHECK(a != 0);
        CHECK(b == a + 64);
        std::vector<uint64_t> more;
        for (int i = 0; i < 64; ++i) more.push_back(pool.alloc());  // a second page
        for (uint64_t x : more) pool.free(x);
        pool.free(b);
        CHECK(violations("double_free") == 0);
        pool.free(b);
        CHECK(violations("double_free") == 1);
        CHECK(pool.busy_pages() == 1);
        pool.destroy();
        CHECK(sim_report().get("violations.pool_busy_at_destroy") == 1);
        std::string log;
        for (auto& l : sim_report().log_lines()) log += l + "\n";
        CHECK(log.find("ioatdma 0000:00:16.0: dma_pool_destroy test_pool, ffff88") != std::string::npos);
        CHECK(log.find(" busy\n") != std::string::npos);
        CHECK(pool.alloc() == 0);
        CHECK(violations("use_after_free") == 1);
        CHECK_FALSE(pool.live(a));
    });
}

TEST_CASE("a freed object reports its later touches and a second free") {
    with_kernel([](kernel& k, dmaengine&) {
        dma_chan c;
        c.set_name("dma9chan0");
        CHECK(c.touch(k, "test"));
        c.kfree(k);
        CHECK_FALSE(c.touch(k, "test"));
        CHECK(violations("use_after_free") == 1);
        c.kfree(k);
        CHECK(violations("double_free") == 1);
    });
}

TEST_CASE("async_tx: a dependency is acked by its use, and using an acked one is reported") {
    with_kernel([](kernel& k, dmaengine& dma) {
        fake_dev d(1);
        for (int cap : {DMA_MEMSET, DMA_XOR, DMA_PQ, DMA_INTERRUPT}) d.cap_mask.set(cap);
        dma.dma_async_device_register(&d);
        CHECK(d.cap_mask.test(DMA_ASYNC_TX));  // every operation async_tx needs
        async_tx atx(k, dma);
        atx.init();
        async_submit_ctl s1;
        dma_async_tx_descriptor* first = atx.async_memcpy(0x100000, 0x200000, 64, s1);
        REQUIRE(first != nullptr);
        CHECK((first->flags & DMA_CTRL_ACK) == 0);
        async_submit_ctl s2{ASYNC_TX_FENCE, first, nullptr, nullptr, -1};
        dma_async_tx_descriptor* second = atx.async_memcpy(0x300000, 0x100000, 64, s2);
        REQUIRE(second != nullptr);
        CHECK(second->chan == first->chan);     // a chain stays on its dependency's channel
        CHECK((first->flags & DMA_CTRL_ACK) != 0);  // using it as a dependency acked it
        CHECK(violations("async_tx_ack") == 0);
        async_submit_ctl s3{0, first, nullptr, nullptr, -1};// first is acked now
        atx.async_memcpy(0x400000, 0x100000, 64, s3);
        CHECK(violations("async_tx_ack") == 1);
    });
}
