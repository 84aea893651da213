// Every AD posterior.
#pragma once

#include "tests/posteriors/ad/spec_gp.hpp"
#include "tests/posteriors/ad/specs_linear.hpp"
#include "tests/posteriors/ad/specs_simple.hpp"
#include "tests/posteriors/ad/specs_real_data.hpp"
