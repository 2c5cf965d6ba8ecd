// The hung-task check: a task that stays in one uninterruptible wait (or a poll
// loop that says what it waits for) longer than check.hung_after is reported,
// naming the task, what it waits on and since when; interruptible sleeps and
// short waits are not.
#include "tests/fake_dma.h"

#include <doctest/doctest.h>

using namespace ioatsim;
using namespace ioatsim::sw;

namespace {

int64_t hung() { return sim_report().get("violations.hung"); }

std::string hung_line() {
    for (auto& l : sim_report().log_lines())
        if (l.find("checker: hung: ") != std::string::npos) return l;
    return "";
}

}  // namespace

TEST_CASE("a task still blocked past check.hung_after is hung, with what it waits on and since when") {
    completion never;
    with_kernel([&](kernel& k, dmaengine&) {
        k.schedule_timeout(1 * MSEC);
        k.wait_for_completion(never);
    }, "legacy", "minimal", [&](kernel& k, dmaengine&) {
        k.schedule_timeout(7 * MSEC);
        k.check_hung();
        CHECK(hung() == 1);
        never.complete();  // lets the run end
    });
    CHECK(hung_line().find("test (cpu0) has been blocked for 6.000 ms (more than 5.000 ms) in wait_for_completion "
                           "since 0.001000 s") != std::string::npos);
}

TEST_CASE("a wait that ends after check.hung_after is reported when it ends") {
    completion late;
    with_kernel([&](kernel& k, dmaengine&) { k.wait_for_completion(late); }, "legacy", "minimal",
                [&](kernel& k, dmaengine&) {
                    k.schedule_timeout(7 * MSEC);
                    late.complete();
                });
    CHECK(hung() == 1);
    CHECK(hung_line().find("test (cpu0) was blocked for 7.000 ms") != std::string::npos);
}

TEST_CASE("a marked poll loop counts, while sleeping for data and short waits do not") {
    completion soon;
    with_kernel([&](kernel& k, dmaengine&) {
        kernel::waiting w(k, "polling a register");
        for (int i = 0; i < 6000; ++i) k.cost(1 * USEC);  // 6 ms of spinning
    }, "legacy", "minimal", [&](kernel& k, dmaengine&) {
        k.schedule_timeout(20 * MSEC);  // an interruptible sleep: not watched
        mutex m;
        k.mutex_lock(m);
        k.mutex_unlock(m);
    });
    CHECK(hung() == 1);
    CHECK(hung_line().find("in polling a register from 0.000000 s") != std::string::npos);
}

TEST_CASE("nested waits belong to the outermost, and a wait under the threshold is fine") {
    with_kernel([&](kernel& k, dmaengine&) {
        kernel::waiting outer(k, "outer");
        completion c;
        c.complete();
        k.wait_for_completion(c);  // already done: no wait at all
        k.schedule_timeout(4 * MSEC);
    });
    CHECK(hung() == 0);
}
