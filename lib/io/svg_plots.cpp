#include "lib/io/svg_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nutshell::io::svg {

namespace {

constexpr double kW = 460, kH = 130, kL = 46, kR = 8, kT = 18, kB = 20;  // size and margins

const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  void finish() {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-300) lo -= 0.5, hi += 0.5;
  }
  double y(double v) const { return kT + (kH - kT - kB) * (1.0 - (v - lo) / (hi - lo)); }
};

std::string fmt(double v) { return absl::StrFormat("%.4g", v); }

std::string open_svg(const std::string& kind, const std::string& title) {
  return absl::StrFormat(
      "<svg class=\"plot\" data-kind=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
      "viewBox=\"0 0 %g %g\" role=\"img\"><title>%s</title>"
      "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"#fff\" stroke=\"#ccc\"/>"
      "<text x=\"%g\" y=\"12\" class=\"t\">%s</text>",
      kind, kW, kH, kW, kH, escape(title), kL, kT, kW - kL - kR, kH - kT - kB, kL, escape(title));
}

std::string y_axis(const Range& r) {
  return absl::StrFormat(
      "<text x=\"%g\" y=\"%g\" class=\"a\" text-anchor=\"end\">%s</text>"
      "<text x=\"%g\" y=\"%g\" class=\"a\" text-anchor=\"end\">%s</text>",
      kL - 3, kT + 8, fmt(r.hi), kL - 3, kH - kB, fmt(r.lo));
}

std::string x_axis(const std::string& left, const std::string& right) {
  return absl::StrFormat(
      "<text x=\"%g\" y=\"%g\" class=\"a\">%s</text><text x=\"%g\" y=\"%g\" class=\"a\" "
      "text-anchor=\"end\">%s</text>",
      kL, kH - 6, escape(left), kW - kR, kH - 6, escape(right));
}

double px(double frac) { return kL + (kW - kL - kR) * frac; }

// Histogram counts of `v` over [lo, hi] in `bins` bins.
std::vector<double> histogram(const std::vector<double>& v, double lo, double hi, std::size_t bins) {
  std::vector<double> h(bins, 0.0);
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    auto b = static_cast<std::size_t>((x - lo) / (hi - lo) * static_cast<double>(bins));
    h[std::min(b, bins - 1)] += 1.0;
  }
  return h;
}

std::string step_line(const std::vector<double>& h, const Range& r, const char* color, const char* extra = "") {
  std::string pts;
  const double n = static_cast<double>(h.size());
  for (std::size_t b = 0; b < h.size(); ++b)
    absl::StrAppend(&pts, absl::StrFormat("%.1f,%.1f %.1f,%.1f ", px(b / n), r.y(h[b]), px((b + 1) / n), r.y(h[b])));
  return absl::StrFormat("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" %s points=\"%s\"/>", color,
                         extra, pts);
}

}  // namespace

const char* chain_color(std::size_t c) { return kPalette[c % (sizeof kPalette / sizeof kPalette[0])]; }

std::string escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string trace(const std::vector<std::vector<double>>& chains, const std::vector<std::vector<bool>>& divergent,
                  std::size_t max_points, const std::string& label) {
  Range r;
  std::size_t n = 0;
  for (const auto& c : chains) {
    for (double v : c) r.add(v);
    n = std::max(n, c.size());
  }
  r.finish();
  std::string s = open_svg("trace", "trace: " + label);
  const std::size_t stride = std::max<std::size_t>(1, (n + max_points - 1) / std::max<std::size_t>(1, max_points));
  const double span = static_cast<double>(std::max<std::size_t>(1, n - 1));
  for (std::size_t c = 0; c < chains.size(); ++c) {
    std::string pts;
    for (std::size_t i = 0; i < chains[c].size(); i += stride)
      if (std::isfinite(chains[c][i]))
        absl::StrAppend(&pts, absl::StrFormat("%.1f,%.1f ", px(i / span), r.y(chains[c][i])));
    absl::StrAppend(&s, absl::StrFormat("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"0.8\" "
                                        "stroke-opacity=\"0.75\" points=\"%s\"/>",
                                        chain_color(c), pts));
  }
  for (std::size_t c = 0; c < chains.size() && c < divergent.size(); ++c)
    for (std::size_t i = 0; i < chains[c].size() && i < divergent[c].size(); ++i)
      if (divergent[c][i] && std::isfinite(chains[c][i]))
        absl::StrAppend(&s, absl::StrFormat("<circle class=\"div\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"#d62728\"/>",
                                            px(i / span), r.y(chains[c][i])));
  absl::StrAppend(&s, y_axis(r), x_axis("draw 0", absl::StrCat(n > 0 ? n - 1 : 0)), "</svg>");
  return s;
}

std::string rank(const std::vector<std::vector<double>>& chains, std::size_t bins, const std::string& label) {
  // Ranks over all chains pooled (ties get their average rank).
  std::vector<std::pair<double, std::size_t>> all;
  std::vector<std::size_t> start;
  for (const auto& c : chains) {
    start.push_back(all.size());
    for (double v : c) all.emplace_back(v, all.size());
  }
  std::vector<std::size_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return all[a].first < all[b].first; });
  std::vector<double> ranks(all.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && all[order[j + 1]].first == all[order[i]].first) ++j;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = 0.5 * (i + j);
    i = j + 1;
  }
  const double total = static_cast<double>(std::max<std::size_t>(1, all.size()));
  bins = std::max<std::size_t>(1, bins);
  std::vector<std::vector<double>> hs;
  Range r;
  r.add(0.0);
  for (std::size_t c = 0; c < chains.size(); ++c) {
    std::vector<double> rc(ranks.begin() + static_cast<std::ptrdiff_t>(start[c]),
                           ranks.begin() + static_cast<std::ptrdiff_t>(start[c] + chains[c].size()));
    auto h = histogram(rc, 0.0, total, bins);
    for (double v : h) r.add(v);
    hs.push_back(std::move(h));
  }
  const double expected = chains.empty() ? 0.0 : static_cast<double>(chains[0].size()) / bins;
  r.add(expected * 1.2);
  r.finish();
  std::string s = open_svg("rank", "rank: " + label);
  for (std::size_t c = 0; c < hs.size(); ++c) absl::StrAppend(&s, step_line(hs[c], r, chain_color(c)));
  absl::StrAppend(&s, absl::StrFormat("<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
                                      "stroke-dasharray=\"4 3\"/>",
                                      kL, kW - kR, r.y(expected), r.y(expected)));
  absl::StrAppend(&s, y_axis(r), x_axis("rank 0", "max rank"), "</svg>");
  return s;
}

std::string energy(const std::vector<double>& e, double ebfmi, std::size_t chain) {
  double mean = 0.0;
  for (double v : e) mean += v;
  mean /= std::max<std::size_t>(1, e.size());
  std::vector<double> marginal, transition;
  for (std::size_t i = 0; i < e.size(); ++i) {
    marginal.push_back(e[i] - mean);
    if (i > 0) transition.push_back(e[i] - e[i - 1]);
  }
  Range x;
  for (double v : marginal) x.add(v);
  for (double v : transition) x.add(v);
  x.finish();
  const std::size_t bins = 30;
  auto hm = histogram(marginal, x.lo, x.hi, bins), ht = histogram(transition, x.lo, x.hi, bins);
  Range y;
  y.add(0.0);
  for (double v : hm) y.add(v);
  for (double v : ht) y.add(v);
  y.finish();
  std::string s = open_svg("energy", absl::StrFormat("energy, chain %d: E-BFMI %.3f", chain + 1, ebfmi));
  absl::StrAppend(&s, step_line(hm, y, "#1f77b4"), step_line(ht, y, "#ff7f0e", "stroke-dasharray=\"3 2\""));
  absl::StrAppend(&s, x_axis(fmt(x.lo), fmt(x.hi)),
                  absl::StrFormat("<text x=\"%g\" y=\"%g\" class=\"a\" fill=\"#1f77b4\">E - mean E</text>"
                                  "<text x=\"%g\" y=\"%g\" class=\"a\" fill=\"#ff7f0e\">E_i - E_(i-1)</text>",
                                  kW - 150, kT + 12, kW - 150, kT + 24),
                  "</svg>");
  return s;
}

std::string chain_bars(const std::vector<double>& values, const std::string& label) {
  double hi = 0.0;
  for (double v : values)
    if (std::isfinite(v)) hi = std::max(hi, v);
  if (!(hi > 0)) hi = 1.0;
  std::string s = open_svg("bars", label);
  const double band = (kH - kT - kB) / std::max<std::size_t>(1, values.size());
  for (std::size_t c = 0; c < values.size(); ++c) {
    const double w = std::isfinite(values[c]) ? (kW - kL - kR - 60) * values[c] / hi : 0.0;
    absl::StrAppend(&s, absl::StrFormat("<rect x=\"%g\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>"
                                        "<text x=\"%.1f\" y=\"%.1f\" class=\"a\">%s</text>"
                                        "<text x=\"%g\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">chain %d</text>",
                                        kL, kT + c * band + 2, w, band - 4, chain_color(c), kL + w + 4,
                                        kT + (c + 0.5) * band + 4, fmt(values[c]), kL - 3, kT + (c + 0.5) * band + 4,
                                        c + 1));
  }
  absl::StrAppend(&s, "</svg>");
  return s;
}

std::string integer_histogram(const std::vector<std::vector<double>>& chains, const std::string& label) {
  int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
  for (const auto& c : chains)
    for (double v : c)
      if (std::isfinite(v)) lo = std::min(lo, static_cast<int>(v)), hi = std::max(hi, static_cast<int>(v));
  if (lo > hi) lo = hi = 0;
  const std::size_t k = static_cast<std::size_t>(hi - lo + 1), m = std::max<std::size_t>(1, chains.size());
  std::vector<std::vector<double>> freq(chains.size(), std::vector<double>(k, 0.0));
  double top = 0.0;
  for (std::size_t c = 0; c < chains.size(); ++c) {
    for (double v : chains[c])
      if (std::isfinite(v)) freq[c][static_cast<std::size_t>(static_cast<int>(v) - lo)] += 1.0;
    for (double& f : freq[c]) {
      f /= std::max<std::size_t>(1, chains[c].size());
      top = std::max(top, f);
    }
  }
  if (!(top > 0)) top = 1.0;
  std::string s = open_svg("hist", label);
  const double group = (kW - kL - kR) / k, bar = group * 0.8 / m;
  for (std::size_t b = 0; b < k; ++b) {
    for (std::size_t c = 0; c < chains.size(); ++c) {
      const double h = (kH - kT - kB) * freq[c][b] / top;
      absl::StrAppend(&s, absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                                          kL + b * group + group * 0.1 + c * bar, kH - kB - h, bar, h,
                                          chain_color(c)));
    }
    absl::StrAppend(&s, absl::StrFormat("<text x=\"%.1f\" y=\"%g\" class=\"a\" text-anchor=\"middle\">%d</text>",
                                        kL + (b + 0.5) * group, kH - 6, lo + static_cast<int>(b)));
  }
  absl::StrAppend(&s, "</svg>");
  return s;
}

}  // namespace nutshell::io::svg
