// A seeded mutation fuzzer of the scenario loader. It starts from every file in
// scenarios/, stacks one to four mutations (byte flips, lines deleted or
// duplicated, scalars replaced by extreme values, keys swapped between
// sections, lines borrowed from other scenarios, --set overrides with extreme
// values) and puts each result through load_scenario, params::resolve and the
// effective scenario's emission, without simulating. Each must load or throw
// input_error: any other exception is a finding; a crash or a hang stops the
// process with the input still in the scratch file. Same seed, same inputs
// (the project's splitmix64).
// Used by tests/test_input_fuzz.cpp (bounded) and bench/fuzz_scenario.cpp (long).
#pragma once
#include "platform/params.h"
#include "platform/scenario.h"
#include "sw/kernel/random.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ioatsim::fuzz {

struct finding {
    std::string input;                  // the scenario text
    std::vector<std::string> overrides;  // --set
    std::string what;                   // the exception's type and message
};

struct stats {
    long executions = 0;
    long loaded = 0;   // loaded and resolved
    long refused = 0;  // input_error
    std::vector<finding> findings;
};

class scenario_fuzzer {
public:
    // `scratch` is the file each input is written to before it is loaded.
    scenario_fuzzer(uint64_t seed, std::string scratch) : rng_{seed}, scratch_(std::move(scratch)) {
        namespace fs = std::filesystem;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(std::string(IOATSIM_SOURCE_DIR) + "/scenarios"))
            if (e.path().extension() == ".yaml") files.push_back(e.path());
        std::sort(files.begin(), files.end());  // directory order is not deterministic
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            seeds_.push_back(s.str());
        }
    }

    size_t seed_count() const { return seeds_.size(); }

    // The next input: a seed scenario with one to four mutations, and sometimes
    // --set overrides.
    std::pair<std::string, std::vector<std::string>> next() {
        std::string text = seeds_[rng_.below(seeds_.size())];
        for (uint64_t n = 1 + rng_.below(4); n; --n) mutate(text);
        std::vector<std::string> sets;
        if (rng_.chance(0.2)) sets.push_back(override_text());
        return {text, sets};
    }

    // Loads one input; returns false (and records it) on anything but success or input_error.
    bool execute(const std::string& text, const std::vector<std::string>& sets, stats& st) {
        ++st.executions;
        {
            std::ofstream out(scratch_, std::ios::binary | std::ios::trunc);
            out << text;
        }
        try {
            const scenario sc = load_scenario(scratch_, sets);
            params::resolve(sc);
            to_yaml(sc.effective);  // written to scenario.effective.yaml on every run
            ++st.loaded;
            return true;
        } catch (const input_error&) {
            ++st.refused;
            return true;
        } catch (const std::exception& e) {
            st.findings.push_back({text, sets, std::string("std::exception: ") + e.what()});
        } catch (...) {
            st.findings.push_back({text, sets, "an exception of unknown type"});
        }
        return false;
    }

    void run(long executions, stats& st) {
        for (long i = 0; i < executions; ++i) {
            auto [text, sets] = next();
            execute(text, sets, st);
        }
    }

private:
    // Values that broke, or could break, a loader: past every integer width, signed
    // and unsigned, octal-looking, empty, non-finite, tiny and huge reals, the
    // largest picosecond count, YAML's own syntax, long strings, control bytes.
    std::string extreme() {
        static const char* const values[] = {
            "18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "4294967296", "4294967297", "2147483648", "-1", "-0", "0", "010", "0x", "0x1p3",
            "0xffffffffffffffff", "1e-300", "1e300", "1e999", "-1e-300", "nan", ".nan", "inf", "-.inf",
            "18446744073709551615 ps", "18446744073709551616 ps", "1000 s", "1001 s", "0 ps", "1e3 ms", "0.5 ps",
            "\"\"", "~", "null", "[]", "{}", "[1, 2]", "{a: 1}", "&a [*a]", "*nope", "!!binary AAAA", "\"\\0\"",
            "\"\\t\"", "\"../../x\"", "\"/\"", ".", "..", "true", "yes", "\"\\uffff\"", "?", "- -", ": :", "|"};
        const uint64_t n = sizeof values / sizeof values[0];
        const uint64_t pick = rng_.below(n + 2);
        if (pick == n) return std::string(1 + rng_.below(100000), 'a');  // a very long string
        if (pick == n + 1) return std::to_string(rng_.next());
        return values[pick];
    }

    std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        std::stringstream s(text);
        for (std::string l; std::getline(s, l);) out.push_back(l);
        return out;
    }
    static std::string join(const std::vector<std::string>& ls) {
        std::string t;
        for (const auto& l : ls) t += l + "\n";
        return t;
    }

    // The key of a "key: value" line, and where its value starts.
    static bool split(const std::string& line, size_t& key_begin, size_t& colon) {
        key_begin = line.find_first_not_of(" -{");
        colon = line.find(": ");
        if (colon == std::string::npos && !line.empty() && line.back() == ':') colon = line.size() - 1;
        return key_begin != std::string::npos && colon != std::string::npos && colon > key_begin;
    }

    void mutate(std::string& text) {
        std::vector<std::string> ls = lines(text);
        switch (rng_.below(7)) {
        case 0:  // flip bits of a byte, or put any byte anywhere
            if (!text.empty()) {
                const size_t at = rng_.below(text.size());
                if (rng_.chance(0.5)) text[at] = char(text[at] ^ char(1u << rng_.below(8)));
                else text[at] = char(rng_.below(256));
            }
            return;
        case 1:  // delete a line
            if (!ls.empty()) ls.erase(ls.begin() + long(rng_.below(ls.size())));
            break;
        case 2:  // duplicate a line (duplicate keys, repeated list entries)
            if (!ls.empty()) {
                const size_t i = rng_.below(ls.size());
                ls.insert(ls.begin() + long(i), ls[i]);
            }
            break;
        case 3:
        case 4: {  // replace a value: after a "key: ", or the whole of a flow entry
            if (ls.empty()) break;
            std::string& l = ls[rng_.below(ls.size())];
            size_t k, c;
            if (!split(l, k, c)) break;
            // In a flow map, replace one "key: value" pair's value only.
            size_t from = c + 1, to = l.size();
            const size_t comma = l.find_first_of(",}", from);
            if (l.find('{') != std::string::npos && comma != std::string::npos) to = comma;
            const size_t inner = l.find(": ", from);
            if (inner != std::string::npos && inner < to && rng_.chance(0.5)) {
                from = inner + 1;
                const size_t end = l.find_first_of(",}", from);
                to = end == std::string::npos ? l.size() : end;
            }
            l = l.substr(0, from) + " " + extreme() + l.substr(to);
            break;
        }
        case 5: {  // swap the keys of two lines, most likely in different sections
            if (ls.size() < 2) break;
            std::string& a = ls[rng_.below(ls.size())];
            std::string& b = ls[rng_.below(ls.size())];
            size_t ka, ca, kb, cb;
            if (!split(a, ka, ca) || !split(b, kb, cb)) break;
            const std::string key_a = a.substr(ka, ca - ka), key_b = b.substr(kb, cb - kb);
            a = a.substr(0, ka) + key_b + a.substr(ca);
            if (&a != &b) b = b.substr(0, kb) + key_a + b.substr(cb);
            break;
        }
        case 6: {  // borrow a line from another scenario, at any place
            const std::vector<std::string> other = lines(seeds_[rng_.below(seeds_.size())]);
            if (!other.empty()) ls.insert(ls.begin() + long(rng_.below(ls.size() + 1)), other[rng_.below(other.size())]);
            break;
        }
        }
        text = join(ls);
    }

    // A --set of a known path (or a mangled one) to an extreme value.
    std::string override_text() {
        static const char* const paths[] = {
            "name", "run.until", "run.quantum", "run.seed", "platform.preset", "platform.set.sockets",
            "platform.set.cores_per_socket", "platform.set.ioat.xfercap", "platform.set.ioat.bandwidth_gbps",
            "platform.set.dram.latency", "platform.set.ioh.ioat_functions", "software.os",
            "software.dmaengine.design", "software.clients.dmatest.threads_per_chan",
            "software.clients.net_dma.readers", "software.clients.async_tx.threads", "timeline.0.at", "timeline.9.at",
            "timeline.0.do", "expect.log_contains", "expect.a.b", "expect.x.min", "run", "platform.set", "..",
            "run..x", "software.clients.dmatest.timeout"};
        std::string v = extreme();
        if (v.size() > 1000) v.resize(1000);
        return std::string(paths[rng_.below(sizeof paths / sizeof paths[0])]) + "=" + v;
    }

    sw::splitmix64 rng_;
    std::string scratch_;
    std::vector<std::string> seeds_;
};

}  // namespace ioatsim::fuzz
