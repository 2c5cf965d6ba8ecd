#include "sw/clients/net_dma.h"

#include "sw/net/user_dma.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace ioatsim::sw {

namespace {
constexpr unsigned SOFTIRQ_BATCH = 8;  // segments per NET_RX softirq [estimate]

uint8_t payload(unsigned reader, uint64_t read, uint64_t off) {
    return uint8_t((reader * 131 + read * 7 + off * 13 + (off >> 8)) & 0xff);
}

// The sender's bytes [off, off + n) of a read, into `out` (resized to n).
// Made where they are needed (a segment sent, a chunk checked) into small
// reused buffers: a forked torture instant writes a page or two of host memory
// per reader, where two 128 KiB buffers cost it 64 copy-on-write faults.
// Within a 256-byte block off >> 8 is fixed and 13 * off is 13 * (off & 255)
// modulo 256: a block is row k of a table of 13 * i + k, copied from.
const uint8_t* payload_into(std::vector<uint8_t>& out, unsigned reader, uint64_t read, uint64_t off, uint64_t n) {
    static const auto rows = [] {
        auto t = std::make_unique<uint8_t[]>(256 * 256);
        for (unsigned k = 0; k < 256; ++k)
            for (unsigned i = 0; i < 256; ++i) t[k * 256 + i] = uint8_t(13 * i + k);
        return t;
    }();
    out.resize(n);
    for (uint64_t i = 0; i < n;) {
        const uint64_t o = off + i, run = std::min<uint64_t>(n - i, 256 - (o & 255));
        const uint8_t k = payload(reader, read, o & ~uint64_t(255));
        std::memcpy(out.data() + i, rows.get() + k * 256u + (o & 255), run);
        i += run;
    }
    return out.data();
}
constexpr uint64_t CHECK_CHUNK = 4096;
}  // namespace

net_dma::net_dma(kernel& k, dmaengine& dma, net_dma_config cfg)
    : k_(k), dma_(dma), cfg_(cfg), syscall_(k.timing("cost.net_dma_syscall")),
      pin_page_(k.timing("cost.net_dma_pin_page")), cpu_relax_(k.timing("cost.cpu_relax")) {
    for (const char* c : counters) k_.rep().declare(c);
    client_.name = "net_dma";
    client_.cap_mask.set(DMA_MEMCPY);
}

void net_dma::init() {
    // 2006: net_dma registered one client at boot; 3.4: one reference per interface up.
    if (dma_.design() == dma_design::client_callbacks) {
        dma_.dma_async_client_register(&client_);
        dma_.dma_async_client_chan_request(&client_);
    }
    for (int i = 0; i < cfg_.interfaces; ++i) {
        if (dma_.design() != dma_design::client_callbacks) dma_.dmaengine_get();  // dev_open
        k_.printk(strfmt("ADDRCONF(NETDEV_UP): eth%d: link is ready", i));
    }
    if (cfg_.copybreak >= 0) sysctl_tcp_dma_copybreak = cfg_.copybreak;
    unsigned n = cfg_.readers ? unsigned(cfg_.readers) : k_.nr_cpus();
    readers_.resize(n);
    wire_.assign(unsigned(std::max(cfg_.interfaces, 1)), 0);
    for (unsigned i = 0; i < n; ++i) {
        reader_state& r = readers_[i];
        r.name = strfmt("reader%u", i);
        r.eth = i % unsigned(wire_.size());
        r.skb = k_.alloc_phys(cfg_.read_size, 4096);
        // The application's buffer: user pages, first touched on the reader's
        // CPU, so on its node (the default local policy); movable, so memory
        // hot-removal migrates them unless a DMA has them pinned.
        const unsigned cpu = i % k_.nr_cpus();
        r.user = k_.alloc_pages_node(k_.cpu_node(cpu), cfg_.read_size, true, r.name,
                                     [&r](uint64_t pa) { r.user = pa; });
        k_.kthread_run(r.name, cpu, [this, i] { reader(i); });
    }
}

void net_dma::reader(unsigned id) {
    reader_state& r = readers_[id];
    while (cfg_.reads == 0 || r.reads < uint64_t(cfg_.reads)) recvmsg(r, id);
}

// The application's bytes land in the user buffer from the skb by the CPU.
void net_dma::cpu_copy(reader_state& r, uint64_t off, uint64_t n) {
    std::vector<uint8_t> b(n);
    k_.mem_read(r.skb + off, b.data(), n);
    k_.mem_write(r.user + off, b.data(), n);
    k_.cost_copy(r.user + off, r.skb + off, n);
}

// With fail-back, copies the channel failed back are redone on the CPU. Cookies
// complete in order and a channel fails back only at its end, so the last one
// tells.
void net_dma::redo_failed(reader_state& r, dma_chan* chan, const std::vector<segment>& segs) {
    bool any = dmaengine::dma_async_is_tx_complete(chan, segs.back().cookie) != DMA_SUCCESS;
    for (const segment& s : segs) {
        if (any && dmaengine::dma_async_is_tx_complete(chan, s.cookie) != DMA_SUCCESS) {
            cpu_copy(r, s.off, s.n);
            ++ledger_.failed_back;
        } else {
            ++ledger_.completed;
        }
    }
}

void net_dma::recvmsg(reader_state& r, unsigned id) {
    report& rep = k_.rep();
    const uint64_t len = cfg_.read_size, read = r.reads++;
    const bool per_use = dma_.per_use(), failback = dma_.fails_back();
    ++rep.counter("net_dma.reads");
    k_.cost(syscall_);
    dma_chan* chan = nullptr;
    int64_t& offload_ps = rep.counter("net_dma.offload_cpu_ps");
    ktime_t t0 = k_.now();
    if (int64_t(len) > sysctl_tcp_dma_copybreak &&
        (chan = per_use ? net_dma_get_channel(dma_, &client_) : net_dma_find_channel(dma_))) {
        k_.cost(pin_page_ * ((len + 4095) / 4096));  // dma_pin_iovec_pages
        k_.pin_user_pages(r.user);
    }
    if (chan) offload_ps += int64_t(k_.now() - t0);
    r.chan = chan;
    std::vector<segment> segs;  // with fail-back: what to redo if the channel fails it back
    const ktime_t seg_time = ktime_t(double(cfg_.segment) * 8.0 * 1000.0 / cfg_.link_gbps);
    dma_cookie_t last = 0;
    bool bailed = false;
    unsigned in_batch = 0;
    r.in_flight = 0;
    for (uint64_t off = 0; off < len; off += cfg_.segment) {
        uint64_t n = std::min<uint64_t>(cfg_.segment, len - off);
        // sk_wait_data: sleep until the segment is here, still holding `chan`.
        // The interface's line carries its readers' segments one after the
        // other; a reader not waiting is not sent to (the sender's window).
        ktime_t& wire = wire_[r.eth];
        wire = std::max(wire, k_.now()) + seg_time;
        k_.schedule_timeout(wire - k_.now());
        const uint8_t* seg = payload_into(r.expect, id, read, off, n);
        k_.mem_write(r.skb + off, seg, n);  // the NIC put it in the skb
        if (!chan) {  // no channel: skb_copy_datagram_iovec on the CPU
            k_.mem_write(r.user + off, seg, n);
            ktime_t c0 = k_.now();
            k_.cost_copy(r.user + off, r.skb + off, n);
            rep.counter("net_dma.cpu_copy_ps") += int64_t(k_.now() - c0);
            rep.counter("net_dma.cpu_copy_bytes") += int64_t(n);
            ++ledger_.cpu;
        } else {
            ktime_t c0 = k_.now();
            dma_cookie_t c = dma_.dma_async_memcpy(chan, r.user + off, r.skb + off, n);
            offload_ps += int64_t(k_.now() - c0);
            if (c < 0) {
                // Every era bails out of the read here ("Exception. Bailout!"); the
                // segment stays queued for the next read.
                k_.printk("tcp_recvmsg: dma_cookie < 0");
                ++rep.counter("net_dma.copies_failed");
                bailed = true;
                break;
            }
            last = c;
            if (failback) segs.push_back({c, off, n});
            ++r.in_flight;
            ++ledger_.submitted;
            rep.counter("net_dma.bytes_offloaded") += int64_t(n);
        }
        if (++in_batch == SOFTIRQ_BATCH) {  // net_rx_action ends with dma_issue_pending_all
            in_batch = 0;
            ktime_t i0 = k_.now();
            dma_.dma_issue_pending_all();
            if (chan) offload_ps += int64_t(k_.now() - i0);
        }
    }
    if (chan && last > 0) {
        // tcp_service_net_dma(sk, true): "Wait for queue to drain", with no way
        // out and, in every era, no cond_resched.
        ktime_t d0 = k_.now();
        dmaengine::dma_async_issue_pending(chan);
        {
            kernel::waiting w(k_, strfmt("tcp_service_net_dma: %lld copies up to cookie %d on %s",
                                         (long long)r.in_flight, last, chan->name.c_str()));
            k_.poll([&] {
                if (dmaengine::dma_async_is_tx_complete(chan, last) != DMA_IN_PROGRESS) return true;
                k_.cost(cpu_relax_);
                return false;
            });
        }
        offload_ps += int64_t(k_.now() - d0);
        if (failback) redo_failed(r, chan, segs);
        else ledger_.completed += r.in_flight;
        r.in_flight = 0;
    }
    if (chan && per_use) dma_.dma_put_channel(chan);
    if (chan) k_.unpin_user_pages(r.user);  // dma_unpin_iovec_pages, on every way out
    if (bailed) return;
    // The application reads what it received; every byte is checked up to the
    // first that differs.
    uint64_t bad = len;
    for (uint64_t o = 0; o < len && bad == len; o += CHECK_CHUNK) {
        const uint64_t n = std::min(CHECK_CHUNK, len - o);
        r.got.resize(n);
        k_.mem_read(r.user + o, r.got.data(), n);
        const uint8_t* want = payload_into(r.expect, id, read, o, n);
        if (std::memcmp(r.got.data(), want, n) == 0) continue;
        bad = o;
        while (r.got[bad - o] == want[bad - o]) ++bad;
    }
    k_.cost_mem(r.user, len, k_.config().memcpy_gbps);
    if (bad < len) {
        rep.violation(k_.now(), "copy_corrupt", strfmt("%s: read %llu differs at byte %llu", r.name.c_str(),
                                                       (unsigned long long)read, (unsigned long long)bad));
        return;
    }
    rep.sample("bytes.delivered", k_.now(), int64_t(len));
    ++ledger_.done;
}

void net_dma::finish() {
    for (auto& r : readers_) {
        if (!r.in_flight) continue;
        if (!dma_.gone(r.chan->device)) {
            ledger_.in_flight += r.in_flight;
            continue;
        }
        ledger_.lost += r.in_flight;
        k_.rep().violation(k_.now(), "copy_lost", strfmt("%s: %lld copies on %s, whose device is gone",
                                                         r.name.c_str(), (long long)r.in_flight, r.chan->name.c_str()));
    }
}

}  // namespace ioatsim::sw
