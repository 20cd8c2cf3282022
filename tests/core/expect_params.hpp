#pragma once

// Parameters against the ones a Python reference printed (a JSON list of lists).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fitreel::testing_support {

/// Every value within `tolerance` of the reference's; 0 asks for the same float, bit for bit.
inline void expect_params_near(const std::vector<std::vector<float>>& actual,
                               const nlohmann::json& expected, double tolerance,
                               const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].size(), expected[i].size()) << what;
    for (size_t j = 0; j < actual[i].size(); ++j) {
      const double want = expected[i][j].get<double>();
      if (tolerance == 0.0) {
        EXPECT_EQ(actual[i][j], static_cast<float>(want)) << what << " [" << i << "][" << j << "]";
      } else {
        EXPECT_NEAR(actual[i][j], want, tolerance) << what << " [" << i << "][" << j << "]";
      }
    }
  }
}

}  // namespace fitreel::testing_support
