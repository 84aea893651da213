#include "nutshell/distributed/communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace nutshell::distributed {

Environment::Environment(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  owns_ = true;
}

Environment::~Environment() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (owns_ && !finalised) MPI_Finalize();
}

int Communicator::rank() const {
  int r = 0;
  MPI_Comm_rank(comm_, &r);
  return r;
}

int Communicator::num_ranks() const {
  int n = 1;
  MPI_Comm_size(comm_, &n);
  return n;
}

void Communicator::barrier() const { MPI_Barrier(comm_); }

std::vector<std::string> Communicator::gather(std::string bytes) const {
  return collect(std::move(bytes), false);
}

std::vector<std::string> Communicator::allgather(std::string bytes) const {
  return collect(std::move(bytes), true);
}

std::vector<std::string> Communicator::collect(std::string bytes, bool everywhere) const {
  const int n = num_ranks(), me = rank();
  // Every rank learns every size, so all agree on the number of rounds.
  std::uint64_t mine = bytes.size();
  std::vector<std::uint64_t> sizes(static_cast<std::size_t>(n));
  MPI_Allgather(&mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, comm_);
  const bool here = everywhere || me == 0;
  std::vector<std::string> out;
  if (here) {
    out.resize(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) out[static_cast<std::size_t>(r)].resize(sizes[static_cast<std::size_t>(r)]);
  }
  // A round moves at most 1 GiB in all (MPI's counts and displacements are ints).
  const std::uint64_t kRound = std::max<std::uint64_t>(1, (std::uint64_t{1} << 30) / static_cast<std::uint64_t>(n));
  const std::uint64_t largest = *std::max_element(sizes.begin(), sizes.end());
  std::vector<int> counts(static_cast<std::size_t>(n)), displs(static_cast<std::size_t>(n));
  std::string buffer;
  for (std::uint64_t at = 0; at == 0 || at < largest; at += kRound) {
    int total = 0;
    for (int r = 0; r < n; ++r) {
      const std::uint64_t s = sizes[static_cast<std::size_t>(r)];
      counts[static_cast<std::size_t>(r)] = static_cast<int>(s > at ? std::min(kRound, s - at) : 0);
      displs[static_cast<std::size_t>(r)] = total;
      total += counts[static_cast<std::size_t>(r)];
    }
    if (here) buffer.resize(static_cast<std::size_t>(total));
    const int send = counts[static_cast<std::size_t>(me)];
    const char* src = send ? bytes.data() + at : bytes.data();
    if (everywhere)
      MPI_Allgatherv(src, send, MPI_BYTE, buffer.data(), counts.data(), displs.data(), MPI_BYTE, comm_);
    else
      MPI_Gatherv(src, send, MPI_BYTE, here ? buffer.data() : nullptr, counts.data(), displs.data(),
                  MPI_BYTE, 0, comm_);
    if (here)
      for (int r = 0; r < n; ++r)
        if (counts[static_cast<std::size_t>(r)] > 0)
          std::copy_n(buffer.data() + displs[static_cast<std::size_t>(r)], counts[static_cast<std::size_t>(r)],
                    out[static_cast<std::size_t>(r)].data() + at);
    if (largest == 0) break;
  }
  return out;
}

}  // namespace nutshell::distributed
