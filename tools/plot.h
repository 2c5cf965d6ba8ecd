// Plots with gnuplot (Debian's gnuplot-nox): each is a data file, the gnuplot
// script that draws it, and the SVG and PNG it draws, all deterministic. The
// data file is written from the CSV the plot is about, so it can be checked
// against it; the script redraws by hand (`gnuplot NAME.gp` in its folder).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace ioatsim {

// Empty when gnuplot can be run, else why not (for messages).
std::string gnuplot_missing();

struct plot_request {
    std::string dir;                // a sweep's folder: sweep.json and summary.csv
    std::string x;                  // an axis: its name, its key, or the end of either
    std::vector<std::string> y;     // metrics: dotted summary.json keys
    std::string by;                 // an axis drawn as one line per value; empty: none
    std::vector<std::pair<std::string, std::string>> where;  // axes held at one value
};

// One plot per metric into DIR/plots/: METRIC-vs-X[-by-BY].{dat,gp,svg,png},
// the mean of the seeds with error bars from their min to their max. Throws
// input_error on an unknown axis or metric, or an axis of several values that
// is neither x, by nor held by `where`. Returns the SVG files written.
std::vector<std::string> plot_sweep(const plot_request& r);

// How sweep --plot chooses: x the first axis that is not the design (the
// design when it is the only one), by the design when it has several values,
// else the next axis of several values. Throws input_error when a third axis
// varies, naming `ioatsim plot DIR --where`.
void choose_plot_axes(const std::vector<std::string>& axis_names, const std::vector<size_t>& axis_sizes,
                      std::string& x, std::string& by);

// `ioatsim compare`'s key figures as bar charts, one panel each (removal
// latency, throughput by phase, reference cost, lost and failed-back copies),
// from DIR/compare.csv into DIR/compare.{dat,gp,svg,png}.
void plot_compare(const std::string& dir);

// The unit of a summary.json number, from its name ("removal.latency_us": us).
std::string metric_unit(const std::string& metric);

}  // namespace ioatsim
