// Cookies and the completion test across wraparound (dmaengine-semantics.md §1.8).
#include "sw/dmaengine/cookie.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

using namespace ioatsim::sw;

TEST_CASE("cookies count up and wrap from INT32_MAX to 1") {
    CHECK(dma_cookie_next(1) == 2);
    CHECK(dma_cookie_next(DMA_MAX_COOKIE - 1) == DMA_MAX_COOKIE);
    CHECK(dma_cookie_next(DMA_MAX_COOKIE) == DMA_MIN_COOKIE);
    CHECK(dma_cookie_next(0) == 1);
    CHECK(dma_submit_error(-16));
    CHECK_FALSE(dma_submit_error(1));
}

TEST_CASE("completion test without wrap between complete and used") {
    // complete = 10, used = 20
    CHECK(dma_async_is_complete(5, 10, 20) == DMA_SUCCESS);
    CHECK(dma_async_is_complete(10, 10, 20) == DMA_SUCCESS);
    CHECK(dma_async_is_complete(11, 10, 20) == DMA_IN_PROGRESS);
    CHECK(dma_async_is_complete(20, 10, 20) == DMA_IN_PROGRESS);
    // A cookie above used was handed out before a wrap: long complete.
    CHECK(dma_async_is_complete(DMA_MAX_COOKIE - 3, 10, 20) == DMA_SUCCESS);
}

TEST_CASE("completion test when used has wrapped past complete") {
    dma_cookie_t complete = DMA_MAX_COOKIE - 5, used = 3;
    CHECK(dma_async_is_complete(DMA_MAX_COOKIE - 10, complete, used) == DMA_SUCCESS);
    CHECK(dma_async_is_complete(DMA_MAX_COOKIE - 5, complete, used) == DMA_SUCCESS);
    CHECK(dma_async_is_complete(DMA_MAX_COOKIE - 4, complete, used) == DMA_IN_PROGRESS);
    CHECK(dma_async_is_complete(DMA_MAX_COOKIE, complete, used) == DMA_IN_PROGRESS);
    CHECK(dma_async_is_complete(1, complete, used) == DMA_IN_PROGRESS);
    CHECK(dma_async_is_complete(3, complete, used) == DMA_IN_PROGRESS);
}

TEST_CASE("a run of cookies across the wrap completes in order") {
    dma_cookie_t used = DMA_MAX_COOKIE - 2, complete = used;
    std::vector<dma_cookie_t> issued;
    for (int i = 0; i < 6; ++i) issued.push_back(used = dma_cookie_next(used));
    for (size_t done = 0; done <= issued.size(); ++done) {
        if (done) complete = issued[done - 1];
        for (size_t j = 0; j < issued.size(); ++j)
            CHECK(dma_async_is_complete(issued[j], complete, used) ==
                  (j < done ? DMA_SUCCESS : DMA_IN_PROGRESS));
    }
}
