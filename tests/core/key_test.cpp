#include "nutshell/key.hpp"

#include <gtest/gtest.h>

TEST(Key, Smoke) {
  auto k = nutshell::make_key(0);
  EXPECT_NE(nutshell::split_one(k, 0), nutshell::split_one(k, 1));
}
