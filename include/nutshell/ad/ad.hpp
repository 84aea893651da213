// nutshell::ad: reverse-mode autodiff on a thread-local arena tape, forward
// mode, the scalar math and the vector and matrix operations a model needs,
// and the adapter from a generic model to a nutshell log density.
#pragma once

#include "nutshell/ad/adapter.hpp"
#include "nutshell/ad/affine.hpp"
#include "nutshell/ad/arena.hpp"
#include "nutshell/ad/covariance.hpp"
#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/fused.hpp"
#include "nutshell/ad/matrix_ops.hpp"
#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/ad/scalar_double.hpp"
#include "nutshell/ad/scalar_var.hpp"
#include "nutshell/ad/sum_terms.hpp"
#include "nutshell/ad/triangular_ops.hpp"
#include "nutshell/ad/var.hpp"
#include "nutshell/ad/vector_ops.hpp"
