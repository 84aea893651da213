// Loads the posterior reference fixtures written by
// tools/make_diagnostics_fixtures.R.
#pragma once

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nutshell/diagnostics/diagnostics.hpp"

namespace nutshell::diagnostics::testing {

inline const char* kFixtureDir = "tests/diagnostics/fixtures/";

inline nlohmann::json load_json(const std::string& file) {
  std::ifstream in(std::string(kFixtureDir) + file);
  EXPECT_TRUE(in.good()) << "cannot open fixture " << file;
  return nlohmann::json::parse(in);
}

// JSON null stands for R's NA.
inline std::vector<double> to_doubles(const nlohmann::json& array) {
  std::vector<double> out;
  for (const auto& v : array) {
    out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN()
                              : v.get<double>());
  }
  return out;
}

struct PosteriorCase {
  std::string name;
  Draws draws;  // [chain, draw, dim]
  std::map<std::string, std::vector<double>> expected;  // one value per dim
  std::vector<double> autocovariance_chain0;            // only ar1_strong
};

inline std::vector<PosteriorCase> load_posterior_cases() {
  const nlohmann::json root = load_json("posterior_cases.json");
  std::vector<PosteriorCase> cases;
  for (const auto& c : root.at("cases")) {
    PosteriorCase pc;
    pc.name = c.at("name").get<std::string>();
    const auto shape = c.at("shape").get<std::vector<std::size_t>>();
    const int scale = c.at("scale_log2").get<int>();
    pc.draws = Draws::from_shape({shape[0], shape[1], shape[2]});
    const auto& k = c.at("draws");
    EXPECT_EQ(k.size(), pc.draws.size()) << pc.name;
    for (std::size_t i = 0; i < k.size() && i < pc.draws.size(); ++i) {
      pc.draws.data()[i] = std::ldexp(k[i].get<double>(), scale);
    }
    for (const auto& [key, values] : c.at("expected").items()) {
      pc.expected[key] = to_doubles(values);
    }
    if (c.contains("autocovariance_chain0")) {
      pc.autocovariance_chain0 = to_doubles(c.at("autocovariance_chain0"));
    }
    cases.push_back(std::move(pc));
  }
  return cases;
}

// |a - b| / max(|a|, |b|); 0 when both are 0 or both NaN (R's NA), +inf
// when exactly one is NaN.
inline double relative_deviation(double actual, double expected) {
  if (std::isnan(actual) || std::isnan(expected)) {
    return std::isnan(actual) && std::isnan(expected)
               ? 0.0
               : std::numeric_limits<double>::infinity();
  }
  const double scale = std::max(std::abs(actual), std::abs(expected));
  return scale == 0.0 ? 0.0 : std::abs(actual - expected) / scale;
}

}  // namespace nutshell::diagnostics::testing
