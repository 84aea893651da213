// Pathfinder's local normal approximations (Zhang, Carpenter, Gelman and
// Vehtari 2022, Algorithms 3 and 4): at iterate l of the L-BFGS path, the
// inverse Hessian estimate H = diag(alpha) + beta gamma beta^T (a diagonal
// plus a rank-2J term from the J most recent (s, y) pairs, in the compact
// form of Byrd, Nocedal and Schnabel 1994), and the normal
// N(x_l + H grad log p(x_l), H).
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/vi/lbfgs_path.hpp"

namespace nutshell::vi::pathfinder {

/// One local normal approximation (Blackjax's PathfinderState).
struct State {
  double elbo = 0.0;  ///< its Monte Carlo ELBO estimate (-inf if unusable)
  Vec position;       ///< the L-BFGS iterate x_l
  Vec grad_position;  ///< grad log p(x_l)
  Vec alpha;          ///< the diagonal of the initial inverse Hessian (d)
  Mat beta;           ///< d x 2J: [diag(alpha) Y, S]
  Mat gamma;          ///< 2J x 2J
  std::size_t iteration = 0;  ///< l, the row of the path
};

/// Draws from an approximation and their log densities under it.
struct Draws {
  Mat positions;  ///< one draw per row
  Vec log_q;      ///< log q of each row
};

/// The approximations at iterates 1..L of `path`, keeping at most
/// `history_size` (s, y) pairs; a pair is kept only when it satisfies the
/// curvature condition s.y > 1e-12 |y|^2, and the diagonal alpha is updated
/// by the paper's Algorithm 3 from each kept pair. Iterates before the first
/// kept pair have no approximation. `elbo` is left at 0.
std::vector<State> approximations(const LbfgsPath& path, std::size_t history_size);

/// The approximation's mean x + H grad.
Vec mean(const State& state);

/// The approximation's covariance diag(alpha) + beta gamma beta^T (dense).
Mat covariance(const State& state);

/// Its diagonal, without forming the dense matrix: the initial inverse mass
/// matrix Pathfinder initialisation hands to window adaptation.
Vec covariance_diagonal(const State& state);

/// `n` draws by Algorithm 4 (dense Cholesky of H when 2J >= d, else the
/// thin QR of diag(alpha)^(-1/2) beta), draw r from fold_in(key, r). Errors:
/// FailedPrecondition when H is not positive definite.
absl::StatusOr<Draws> sample(const Key& key, const State& state, std::size_t n);

}  // namespace nutshell::vi::pathfinder
