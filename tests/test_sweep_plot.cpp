// Plots: sweep --plot, ioatsim plot and compare's chart give SVG and PNG that
// are valid and the same bytes every time, drawn from data files that say what
// the CSV says.
#include "sweep_cli.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace sweep_test;

namespace {

void check_svg(const fs::path& p) {
    const std::string svg = slurp(p);
    CAPTURE(p);
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.size() > 1000);
    CHECK(svg.substr(svg.find_last_not_of("\n") - 5, 6) == "</svg>");
    size_t open = 0, close = 0;
    for (size_t i = svg.find("<g"); i != std::string::npos; i = svg.find("<g", i + 1)) open += svg[i + 2] == ' ' || svg[i + 2] == '>';
    for (size_t i = svg.find("</g>"); i != std::string::npos; i = svg.find("</g>", i + 1)) ++close;
    CHECK(open == close);
}

void check_png(const fs::path& p, unsigned width, unsigned height) {
    const std::string png = slurp(p);
    CAPTURE(p);
    REQUIRE(png.size() > 33);
    CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    CHECK(png.compare(12, 4, "IHDR") == 0);
    auto be32 = [&](size_t at) {
        return unsigned((unsigned char)png[at]) << 24 | unsigned((unsigned char)png[at + 1]) << 16 |
               unsigned((unsigned char)png[at + 2]) << 8 | unsigned((unsigned char)png[at + 3]);
    };
    CHECK(be32(16) == width);
    CHECK(be32(20) == height);
    CHECK(png.compare(png.size() - 8, 4, "IEND") == 0);
}

}  // namespace

TEST_CASE("sweep --plot draws each metric against the first axis, a line per design, from summary.csv") {
    tmpdir t;
    const fs::path out = t.path / "s";
    result r = ioatsim("sweep " + tiny(t) +
                           " --axis software.clients.dmatest.iterations=10..80:4:log --designs legacy,atomic --seeds 2"
                           " -j 2 --plot copies.completed,references.ns_per_dma_op --out " + out.string(), t);
    REQUIRE(r.status == 0);
    const fs::path plots = out / "plots";
    const std::string name = "references.ns_per_dma_op-vs-iterations-by-design";
    CHECK(r.out.find("plot: " + (plots / (name + ".svg")).string()) != std::string::npos);
    for (const std::string& n : {name, std::string("copies.completed-vs-iterations-by-design")}) {
        check_svg(plots / (n + ".svg"));
        check_png(plots / (n + ".png"), 900, 540);
        CHECK(fs::exists(plots / (n + ".gp")));
    }
    const std::string gp = slurp(plots / (name + ".gp"));
    CHECK(gp.find("set logscale x") != std::string::npos);  // a :log range
    CHECK(gp.find("set ylabel \"references.ns_per_dma_op (ns)\"") != std::string::npos);
    CHECK(gp.find("set xlabel \"software.clients.dmatest.iterations\"") != std::string::npos);
    CHECK(gp.find("title \"legacy\"") != std::string::npos);
    CHECK(gp.find("title \"atomic\"") != std::string::npos);
    CHECK(gp.find("with yerrorlines") != std::string::npos);

    // Each data row is the summary.csv row of its design and value: mean, min, max, n.
    auto sum = csv(slurp(out / "summary.csv"));
    auto sc = columns(sum[0]);
    const std::string m = "references.ns_per_dma_op";
    std::istringstream dat(slurp(plots / (name + ".dat")));
    std::string design;
    size_t rows = 0;
    for (std::string line; std::getline(dat, line);) {
        if (line.rfind("# design=", 0) == 0) design = line.substr(9);
        if (line.empty() || line[0] == '#') continue;
        std::istringstream f(line);
        std::string x, label, mean, lo, hi, n;
        f >> x >> label >> mean >> lo >> hi >> n;
        label = label.substr(1, label.size() - 2);
        CAPTURE(line);
        auto it = std::find_if(sum.begin() + 1, sum.end(), [&](auto& row) {
            return row[sc["design"]] == design && row[sc["software.clients.dmatest.iterations"]] == label;
        });
        REQUIRE(it != sum.end());
        CHECK(x == label);
        CHECK(mean == (*it)[sc[m + ".mean"]]);
        CHECK(lo == (*it)[sc[m + ".min"]]);
        CHECK(hi == (*it)[sc[m + ".max"]]);
        CHECK(n == (*it)[sc[m + ".n"]]);
        ++rows;
    }
    CHECK(rows == 8);  // 2 designs x 4 values
    CHECK(design == "atomic");

    // ioatsim plot draws the same files again, to the byte; a line per design by default.
    const std::string svg = slurp(plots / (name + ".svg")), png = slurp(plots / (name + ".png"));
    fs::remove(plots / (name + ".svg"));
    result p = ioatsim("plot " + out.string() + " --x iterations --y " + m, t);
    REQUIRE(p.status == 0);
    CHECK(slurp(plots / (name + ".svg")) == svg);
    CHECK(slurp(plots / (name + ".png")) == png);
    // One design held, the counter named as expect names it.
    result w = ioatsim("plot " + out.string() + " --x iterations --y dmatest.tests --where design=atomic", t);
    REQUIRE(w.status == 0);
    CHECK(fs::exists(plots / "counters.dmatest.tests-vs-iterations-design=atomic.svg"));
}

TEST_CASE("plot refuses what it cannot draw, naming it") {
    tmpdir t;
    const fs::path out = t.path / "s";
    REQUIRE(ioatsim("sweep " + tiny(t) + " --axis software.clients.dmatest.iterations=10,20 --designs legacy,atomic"
                    " --axis ioat.desc_overhead=100ns,200ns -j 2 --out " + out.string(), t).status == 0);
    struct bad { std::string args, says; };
    const bad cases[] = {
        {" --x nosuch --y copies.lost", "--x: no axis \"nosuch\" (axes: design, software.clients.dmatest.iterations"},
        {" --x iterations --y nosuch --where desc_overhead=100ns", "--y: \"nosuch\" is no number of this sweep's summaries (numbers: "},
        {" --x iterations --y copies.lost", "ioat.desc_overhead has 2 values; hold one with --where"},
        {" --x iterations --y copies.lost --where desc_overhead=7ns", "not a value of ioat.desc_overhead"},
        {" --x iterations --y copies.lost --by iterations", "--by: iterations is already --x"},
        {" --x seed --y copies.lost", "seeds are what summary.csv aggregates"},
    };
    for (const bad& b : cases) {
        CAPTURE(b.args);
        result r = ioatsim("plot " + out.string() + b.args, t);
        CHECK(r.status == 2);
        CHECK(r.err.find(b.says) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(out / "plots"));
    result ok = ioatsim("plot " + out.string() + " --x desc_overhead --y copies.lost --where iterations=20", t);
    CHECK(ok.status == 0);
    check_svg(out / "plots" / "copies.lost-vs-desc_overhead-by-design-iterations=20.svg");
    CHECK(ioatsim("plot " + (t.path / "nowhere").string() + " --x a --y b", t).status == 2);
}

TEST_CASE("compare draws its table's key figures as bar charts, from compare.csv") {
    tmpdir t;
    const fs::path out = t.path / "cmp";
    result r = ioatsim("compare " + tiny(t) + " --designs legacy,atomic,mainline --jobs 2 --trace none --out " +
                           out.string(), t);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("chart: " + out.string() + "/compare.svg") != std::string::npos);
    check_svg(out / "compare.svg");
    check_png(out / "compare.png", 900, 540);
    const std::string gp = slurp(out / "compare.gp");
    CHECK(gp.find("set multiplot layout 2,2") != std::string::npos);
    CHECK(gp.find("\"channel references\"") != std::string::npos);
    // The data file's reference cost is compare.csv's, design by design.
    auto table = csv(slurp(out / "compare.csv"));
    auto col = columns(table[0]);
    std::istringstream dat(slurp(out / "compare.dat"));
    std::string line;
    std::getline(dat, line);  // the header
    for (size_t i = 1; i < table.size(); ++i) {
        REQUIRE(std::getline(dat, line));
        CAPTURE(line);
        CHECK(line.rfind("\"" + table[i][col["design"]] + "\" ", 0) == 0);
        CHECK(line.find(" " + table[i][col["ref ns per DMA op"]] + " ") != std::string::npos);
    }
    CHECK(table[2][col["ref ns per DMA op"]] != "0.000");  // atomic pays per use: a bar of its own
}
