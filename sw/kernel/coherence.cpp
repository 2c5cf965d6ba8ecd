#include "sw/kernel/coherence.h"

#include <algorithm>
#include <string>

namespace ioatsim::sw {

namespace {
using C = coherence_costs;
constexpr const char* T2 = "SOSP'13 Table 2, Westmere-EX at 2.13 GHz: ";
const char* D[3] = {"same_die", "one_hop", "two_hop"};

coherence_param scalar(const char* key, coh_time C::*f, const char* src) { return {key, 0, src, f, nullptr, 0}; }
coherence_param cell(const char* key, coh_time (C::*row)[3], int d, const char* src) {
    return {key, 0, src, nullptr, row, d};
}

std::vector<coherence_param> make_params() {
    // Old names kept for the Modified rows of loads and atomics.
    struct row { const char* prefix; coh_time (C::*r)[3]; const char* what; const char* cycles[3]; };
    static const row rows[] = {
        {"load_", &C::load_m, "load of a Modified line", {"109", "289", "400"}},
        {"load_exclusive_", &C::load_e, "load of an Exclusive line", {"92", "273", "383"}},
        {"load_shared_", &C::load_s, "load of a Shared line", {"44", "223", "334"}},
        {"load_memory_", &C::load_i, "load of a line in no cache (DRAM at the home node's distance)",
         {"355", "492", "601"}},
        {"store_", &C::store_m, "store to a Modified or Exclusive line", {"115", "320", "431"}},
        {"store_shared_", &C::store_s, "store to a Shared line (the farthest sharer)", {"116", "318", "428"}},
        {"atomic_", &C::atomic_m, "atomic on a Modified or Exclusive line", {"120", "324", "430"}},
        {"atomic_shared_", &C::atomic_s, "atomic on a Shared line (the farthest sharer)", {"113", "312", "423"}},
    };
    static std::vector<std::string> text;
    text.reserve(2 * std::size(rows) * 3);
    std::vector<coherence_param> p = {
        scalar("load_local", &C::load_local, "SOSP'13 Table 3: L1 hit, 5 cycles at 2.13 GHz"),
        scalar("store_local", &C::store_local, "estimate: a store to a line held Modified, as an L1 hit"),
        scalar("rmw_local", &C::rmw_local, "SOSP'13 5.4: ~20 cycles, an uncontended atomic on a line held here"),
        scalar("percpu_op", &C::percpu_op, "estimate: ~3 cycles, a non-locked per-CPU add"),
    };
    for (const row& r : rows)
        for (int d = 0; d < 3; ++d) {
            text.push_back(std::string(r.prefix) + D[d]);
            const char* key = text.back().c_str();
            text.push_back(std::string(T2) + r.what + ", " + r.cycles[d] + " cycles");
            p.push_back(cell(key, r.r, d, text.back().c_str()));
        }
    C defaults;
    for (auto& e : p) e.ps = e.field ? defaults.*e.field : (defaults.*e.row)[e.dist];
    return p;
}
}  // namespace

const std::vector<coherence_param> coherence_params = make_params();

std::vector<std::vector<uint8_t>> coherence_topology(int kind, unsigned nodes) {
    std::vector<std::vector<uint8_t>> h(nodes, std::vector<uint8_t>(nodes, 1));
    for (unsigned a = 0; a < nodes; ++a)
        for (unsigned b = 0; b < nodes; ++b) {
            unsigned x = a ^ b;
            if (a == b) h[a][b] = 0;
            else if (kind == 1) h[a][b] = (x & (x - 1)) == 0 ? 1 : 2;  // neighbours differ in one bit
        }
    return h;
}

coherence::coherence(coherence_costs c, std::vector<std::vector<uint8_t>> hops, std::function<unsigned(unsigned)> node_of)
    : c_(c), hops_(std::move(hops)), node_of_(std::move(node_of)) {}

unsigned coherence::node_distance(unsigned a, unsigned b) const {
    if (a == b) return 0;
    if (a < hops_.size() && b < hops_[a].size()) return std::min<unsigned>(hops_[a][b], 2);
    return 1;
}

unsigned coherence::distance(unsigned a, unsigned b) const { return node_distance(node_of_(a), node_of_(b)); }

bool coherence::hit(const cacheline& l, unsigned cpu, coh_op op) const {
    if (l.owner == int(cpu)) return true;
    return op == coh_op::load && l.shared_by(cpu);
}

namespace {
void add_sharer(cacheline& l, unsigned cpu) {
    if (l.sharers.size() <= cpu / 64) l.sharers.resize(cpu / 64 + 1, 0);
    l.sharers[cpu / 64] |= uint64_t(1) << (cpu % 64);
}
template <class F> void each_sharer(const cacheline& l, F f) {
    for (size_t w = 0; w < l.sharers.size(); ++w)
        for (uint64_t bits = l.sharers[w]; bits; bits &= bits - 1) f(unsigned(w * 64 + unsigned(__builtin_ctzll(bits))));
}
}  // namespace

coh_time coherence::access(cacheline& l, unsigned cpu, coh_op op, coh_time at, coh_kind kind) {
    const unsigned node = node_of_(cpu);
    if (l.home < 0) l.home = int(node);
    stats& st = stats_[int(kind)];
    if (l.owner == int(cpu)) {  // held here: no traffic; an RMW still waits for the line's last miss
        coh_time t = op == coh_op::load ? c_.load_local : op == coh_op::store ? c_.store_local : c_.rmw_local;
        if (op != coh_op::load) l.dirty = true;
        coh_time start = op == coh_op::rmw ? std::max(at, l.busy_until) : at;
        if (op == coh_op::rmw) l.busy_until = start + t;
        st.time += start + t - at;
        return start + t - at;
    }
    if (op == coh_op::load && l.shared_by(cpu)) {
        st.time += c_.load_local;
        return c_.load_local;
    }
    // A miss: the line answers it after the one before.
    const coh_time start = std::max(at, l.busy_until);
    coh_time t = 0;
    const int row = op == coh_op::load ? 0 : op == coh_op::store ? 1 : 2;
    if (l.owner >= 0) {
        unsigned d = distance(cpu, unsigned(l.owner));
        if (row == 0) {
            t = (l.dirty ? c_.load_m : c_.load_e)[d];
            add_sharer(l, unsigned(l.owner));  // the owner keeps a Shared copy
            l.owner = -1;
            l.dirty = false;
        } else {
            t = (row == 1 ? c_.store_m : c_.atomic_m)[d];
        }
    } else {
        unsigned far = 0, near = 2;
        bool others = false;
        each_sharer(l, [&](unsigned s) {
            if (s == cpu) return;
            others = true;
            unsigned d = distance(cpu, s);
            near = std::min(near, d);  // a load asks the nearest
            far = std::max(far, d);    // a write invalidates them all
        });
        if (row == 0) far = near;
        if (others) t = (row == 0 ? c_.load_s : row == 1 ? c_.store_s : c_.atomic_s)[far];
        else if (l.shared_by(cpu)) t = row == 2 ? c_.rmw_local : c_.store_local;  // the only copy: an upgrade
        else t = c_.load_i[node_distance(node, unsigned(l.home))] + (row == 2 ? c_.rmw_local : 0);
    }
    if (row == 0) {
        bool alone = l.owner < 0 && std::all_of(l.sharers.begin(), l.sharers.end(), [](uint64_t w) { return !w; });
        if (alone) l.owner = int(cpu);  // Exclusive
        else add_sharer(l, cpu);
    } else {
        std::fill(l.sharers.begin(), l.sharers.end(), 0);
        l.owner = int(cpu);
        l.dirty = true;
    }
    l.busy_until = start + t;
    ++st.transfers;
    st.time += start + t - at;
    return start + t - at;
}

void coherence::device_write(cacheline& l) {
    l.owner = -1;
    l.dirty = false;
    std::fill(l.sharers.begin(), l.sharers.end(), 0);
}

}  // namespace ioatsim::sw
