#include "nutshell/model/layout.hpp"

#include <set>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nutshell::model {
namespace {

std::size_t product(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

/// Each constrained value's flat index in the scratch, in Stan's output
/// order (column-major for matrices), with its 1-based indices.
template <class Visit>
void for_each_value(const Entry& e, Visit&& visit) {
  const auto& s = e.param.shape;
  if (s.empty()) {
    visit(e.c_offset, std::vector<std::size_t>{});
  } else if (s.size() == 1) {
    for (std::size_t i = 0; i < s[0]; ++i) visit(e.c_offset + i, std::vector<std::size_t>{i + 1});
  } else {
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i)
        visit(e.c_offset + i * s[1] + j, std::vector<std::size_t>{i + 1, j + 1});
  }
}

std::vector<std::string> flat_names(const std::vector<Entry>& entries, const char* open,
                                    const char* sep, const char* close) {
  std::vector<std::string> out;
  for (const Entry& e : entries) {
    for_each_value(e, [&](std::size_t, const std::vector<std::size_t>& idx) {
      std::string name = e.param.name;
      for (std::size_t k = 0; k < idx.size(); ++k)
        absl::StrAppend(&name, k == 0 ? open : sep, idx[k]);
      if (!idx.empty()) name += close;
      out.push_back(std::move(name));
    });
  }
  return out;
}

std::string shape_string(const std::vector<std::size_t>& shape) {
  if (shape.empty()) return "a scalar";
  if (shape.size() == 1) return absl::StrCat("a vector of ", shape[0]);
  return absl::StrCat("a ", shape[0], " x ", shape[1], " matrix");
}

}  // namespace

absl::StatusOr<Layout> Layout::create(std::vector<Param> params) {
  Layout out;
  std::set<std::string, std::less<>> seen;
  for (Param& p : params) {
    if (p.name.empty()) return absl::InvalidArgumentError("a parameter has an empty name");
    if (p.name.find_first_of("[]., ") != std::string::npos)
      return absl::InvalidArgumentError(
          absl::StrCat("parameter name '", p.name, "' contains one of '[]., '"));
    if (!seen.insert(p.name).second)
      return absl::InvalidArgumentError(absl::StrCat("parameter '", p.name, "' declared twice"));
    if (p.shape.size() > 2)
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", p.name, "': only scalars, vectors and matrices"));
    Entry e;
    absl::Status valid = std::visit(
        [&](const auto& t) {
          e.u_size = t.unconstrained_size();
          e.c_size = t.constrained_size();
          return t.validate();
        },
        p.transform);
    if (!valid.ok())
      return absl::InvalidArgumentError(absl::StrCat("parameter '", p.name, "': ", valid.message()));
    if (e.c_size != product(p.shape))
      return absl::InvalidArgumentError(absl::StrCat("parameter '", p.name, "': shape ",
                                                     shape_string(p.shape),
                                                     " does not match its constraint"));
    e.u_offset = out.dim_;
    e.c_offset = out.constrained_size_;
    out.dim_ += e.u_size;
    out.constrained_size_ += e.c_size;
    e.identity = std::holds_alternative<constraints::Identity>(p.transform);
    if (!e.identity) out.constrains_ = true;
    e.param = std::move(p);
    out.entries_.push_back(std::move(e));
  }
  out.num_names_ = out.constrained_size_;
  return out;
}

const Entry* Layout::find(std::string_view name) const {
  for (const Entry& e : entries_)
    if (e.param.name == name) return &e;
  return nullptr;
}

std::vector<std::string> Layout::names() const { return flat_names(entries_, "[", ",", "]"); }

std::vector<std::string> Layout::csv_names() const { return flat_names(entries_, ".", ".", ""); }

absl::StatusOr<Vec> Layout::constrain(std::span<const double> u) const {
  if (u.size() != dim_)
    return absl::InvalidArgumentError(
        absl::StrCat("constrain: the draw has ", u.size(), " coordinates, the layout ", dim_));
  std::vector<double> scratch(constrained_size_);
  double lp = 0.0;
  for (const Entry& e : entries_)
    std::visit(
        [&](const auto& t) {
          t.template constrain<double>(u.subspan(e.u_offset, e.u_size),
                                       std::span<double>(scratch).subspan(e.c_offset, e.c_size),
                                       lp);
        },
        e.param.transform);
  Vec out = Vec::from_shape({num_names_});
  std::size_t k = 0;
  for (const Entry& e : entries_)
    for_each_value(e, [&](std::size_t index, const std::vector<std::size_t>&) {
      out(k++) = scratch[index];
    });
  return out;
}

absl::StatusOr<Draws> Layout::constrain_draws(const Draws& draws) const {
  if (draws.shape(2) != dim_)
    return absl::InvalidArgumentError(absl::StrCat(
        "constrain_draws: draws have ", draws.shape(2), " coordinates, the layout ", dim_));
  Draws out = Draws::from_shape({draws.shape(0), draws.shape(1), num_names_});
  std::vector<double> u(dim_);
  for (std::size_t c = 0; c < draws.shape(0); ++c)
    for (std::size_t d = 0; d < draws.shape(1); ++d) {
      for (std::size_t i = 0; i < dim_; ++i) u[i] = draws(c, d, i);
      auto y = constrain(u);
      if (!y.ok()) return y.status();
      for (std::size_t i = 0; i < num_names_; ++i) out(c, d, i) = (*y)(i);
    }
  return out;
}

absl::StatusOr<Vec> Layout::unconstrain(const Values& values) const {
  for (const auto& [name, v] : values)
    if (find(name) == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("initial value for '", name,
                                                     "', which is not a parameter"));
  Vec out = Vec::from_shape({dim_});
  for (const Entry& e : entries_) {
    auto it = values.find(e.param.name);
    if (it == values.end())
      return absl::InvalidArgumentError(
          absl::StrCat("no initial value for parameter '", e.param.name, "'"));
    if (it->second.size() != e.c_size)
      return absl::InvalidArgumentError(absl::StrCat(
          "initial value for '", e.param.name, "' has ", it->second.size(), " entries; it is ",
          shape_string(e.param.shape), (e.param.shape.size() == 2 ? " (row-major)" : "")));
    auto x = std::visit([&](const auto& t) { return t.unconstrain(it->second); }, e.param.transform);
    if (!x.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("initial value for '", e.param.name, "': ", x.status().message()));
    for (std::size_t i = 0; i < e.u_size; ++i) out(e.u_offset + i) = (*x)[i];
  }
  return out;
}

}  // namespace nutshell::model
