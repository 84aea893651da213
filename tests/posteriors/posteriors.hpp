// The six benchmark posteriors (see tests/posteriors/data/<name>/ and the
// READMEs in shared/posteriors) as log densities with hand-written gradients.
#pragma once

#include "tests/posteriors/check_points.hpp"
#include "tests/posteriors/corr_gauss_50.hpp"
#include "tests/posteriors/data_files.hpp"
#include "tests/posteriors/eight_schools_nc.hpp"
#include "tests/posteriors/funnel_10.hpp"
#include "tests/posteriors/gauss_100.hpp"
#include "tests/posteriors/gp_student_t_100.hpp"
#include "tests/posteriors/logistic_1000x25.hpp"
#include "tests/posteriors/reference.hpp"
