// The cache-coherence model every line software shares goes through: per line,
// its owner (Modified or Exclusive), its sharers and its home node; a load,
// store or locked RMW costs by the state it finds and the distance to the CPU
// that must answer (same die, one or two QPI hops), taken from SOSP'13's
// Westmere-EX measurements (timing-defaults.md 1.1, 1.6, 3). A line serves one
// miss at a time (a FIFO server); a device write invalidates every copy.
//
// It lives in sw/kernel/ because what it costs is simulated CPUs' time, charged
// to tasks that run ahead of SystemC time (kernel::touch orders misses by
// simulated time); the hardware models stay free of it and report device
// writes through a platform hook. Plain C++, no SystemC: benches drive it
// directly.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace ioatsim::sw {

using coh_time = uint64_t;  // picoseconds, as ktime_t

enum class coh_op { load, store, rmw };
// Whose cost it is: a design's references, or the rest of the path.
enum class coh_kind { path, refs };

struct cacheline {
    const char* name = "line";
    int home = -1;                  // NUMA node of its memory; -1 until first touched (first touch)
    int owner = -1;                 // the CPU holding it Modified or Exclusive
    bool dirty = false;             // Modified (else Exclusive) when owned
    std::vector<uint64_t> sharers;  // CPUs holding it Shared, as a bit set
    coh_time busy_until = 0;        // the end of the miss it serves
    void* poll_watch = nullptr;     // the poll group asleep on it (kernel::poll)

    bool shared_by(unsigned cpu) const {
        return cpu / 64 < sharers.size() && (sharers[cpu / 64] >> (cpu % 64) & 1);
    }
};

// The parameters (coherence.* in platform/params.cpp), in picoseconds: per
// operation and the state it finds, by distance (same die, 1 hop, 2 hops).
struct coherence_costs {
    coh_time load_local = 2350, store_local = 2350, rmw_local = 9400, percpu_op = 1400;
    coh_time load_m[3] = {51200, 135700, 187800}, load_e[3] = {43200, 128200, 179800},
             load_s[3] = {20700, 104700, 156800}, load_i[3] = {166700, 231000, 282200};
    coh_time store_m[3] = {54000, 150200, 202300}, store_s[3] = {54500, 149300, 200900};
    coh_time atomic_m[3] = {56300, 152100, 201900}, atomic_s[3] = {53100, 146500, 198600};
};

struct coherence_param {
    const char* key;   // after "coherence."
    coh_time ps;       // default
    const char* source;
    coh_time coherence_costs::*field;  // a scalar cost, or
    coh_time (coherence_costs::*row)[3];  // one distance of a row
    int dist;
};
extern const std::vector<coherence_param> coherence_params;

// Sockets and the QPI hops between them: 0 fully connected (every other
// socket one hop away: the x3850 X5's four), 1 the 8-socket twisted hypercube
// (each socket's three neighbours one hop away, the other four two).
std::vector<std::vector<uint8_t>> coherence_topology(int kind, unsigned nodes);

class coherence {
public:
    coherence(coherence_costs c, std::vector<std::vector<uint8_t>> hops, std::function<unsigned(unsigned)> node_of);

    // Does `cpu` already hold the line as `op` needs (no coherence traffic)?
    bool hit(const cacheline& l, unsigned cpu, coh_op op) const;
    // `cpu` does `op` on `l` at `at`: the state moves, and the cost returned
    // includes waiting for the line's previous miss.
    coh_time access(cacheline& l, unsigned cpu, coh_op op, coh_time at, coh_kind kind = coh_kind::path);
    void device_write(cacheline& l);  // every CPU's copy invalidated

    const coherence_costs& costs() const { return c_; }
    unsigned distance(unsigned a, unsigned b) const;  // 0 same die (or CPU), else hops
    struct stats { uint64_t transfers = 0; coh_time time = 0; };
    const stats& of(coh_kind k) const { return stats_[int(k)]; }
    // What `times` accesses like those that gave `per` would have added: the
    // passes a poll stood for while it slept (kernel::poll).
    void add(coh_kind k, const stats& per, uint64_t times) {
        stats_[int(k)].transfers += per.transfers * times;
        stats_[int(k)].time += per.time * times;
    }

private:
    unsigned node_distance(unsigned a, unsigned b) const;
    coherence_costs c_;
    std::vector<std::vector<uint8_t>> hops_;
    std::function<unsigned(unsigned)> node_of_;
    stats stats_[2];
};

}  // namespace ioatsim::sw
