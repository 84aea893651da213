// MatrixView: the non-owning row-major matrix the matrix operations take and
// return, and arena storage for results.
#pragma once

#include <cstddef>
#include <new>
#include <span>

#include "nutshell/ad/arena.hpp"
#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

/// A row-major `rows` x `cols` matrix over `data` (not owned). Use
/// `MatrixView<const double>` for data and `MatrixView<const T>` for model
/// scalars; operations return views into arena storage, valid until the end of
/// the current evaluation.
template <class T>
struct MatrixView {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  /// Entry (i, j).
  T& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  /// Row i.
  std::span<T> row(std::size_t i) const { return {data + i * cols, cols}; }
  /// All entries, row by row.
  std::span<T> flat() const { return {data, rows * cols}; }
  /// The same matrix, read-only.
  operator MatrixView<const T>() const { return {data, rows, cols}; }  // NOLINT
};

/// `n` zero-initialised scalars in the arena (double, var or fvar), valid
/// until the end of the current evaluation.
template <class T>
std::span<T> arena_vector(std::size_t n) {
  T* p = arena_alloc<T>(n);
  for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(p + i)) T(0.0);
  return {p, n};
}

/// A zero-initialised `rows` x `cols` matrix in the arena.
template <class T>
MatrixView<T> arena_matrix(std::size_t rows, std::size_t cols) {
  return {arena_vector<T>(rows * cols).data(), rows, cols};
}

}  // namespace nutshell::ad
