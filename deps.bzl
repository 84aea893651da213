"""Repositories nutshell needs, for the root WORKSPACE and for consumers.

Bazel ignores a dependency's own WORKSPACE, so a project that depends on
nutshell calls `nutshell_deps()` from its WORKSPACE:

    local_repository(name = "nutshell", path = "...")
    load("@nutshell//:deps.bzl", "nutshell_deps")
    nutshell_deps()

Everything comes from Debian 12 packages (see tools/install_deps.sh); nothing
is downloaded, so builds work offline.
"""

_MOCK_REPOS = "/usr/src/bazel-bootstrap/mock_repos"

def _coverage_stub_impl(ctx):
    # Bazel 4 fetches remote_coverage_tools for `bazel test`; coverage is not
    # collected through Bazel here, so a runnable stub that says so suffices.
    ctx.file("WORKSPACE", "workspace(name = \"remote_coverage_tools\")\n")
    ctx.file("coverage.sh", "#!/bin/sh\necho 'coverage is not collected through Bazel in nutshell' >&2\nexit 1\n", executable = True)
    ctx.file("BUILD", "\n".join([
        "package(default_visibility = [\"//visibility:public\"])",
        "sh_binary(name = \"coverage_report_generator\", srcs = [\"coverage.sh\"])",
        "sh_binary(name = \"lcov_merger\", srcs = [\"coverage.sh\"])",
        "",
    ]))

_coverage_stub = repository_rule(implementation = _coverage_stub_impl)

_SYSTEM_BUILD = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "xtensor",
    hdrs = glob([
        "include/xtensor/**",
        "include/xtl/**",
        "include/xsimd/**",
        "include/xtensor-blas/**",
    ]),
    linkopts = ["-lopenblas"],
)

cc_library(
    name = "random123",
    hdrs = glob(["include/Random123/**"]),
)

cc_library(
    name = "absl",
    hdrs = glob(["include/absl/**"]),
    linkopts = [
        "-labsl_statusor",
        "-labsl_status",
        "-labsl_cord",
        "-labsl_cordz_info",
        "-labsl_cordz_handle",
        "-labsl_cordz_functions",
        "-labsl_cordz_sample_token",
        "-labsl_cord_internal",
        "-labsl_hashtablez_sampler",
        "-labsl_synchronization",
        "-labsl_graphcycles_internal",
        "-labsl_time",
        "-labsl_civil_time",
        "-labsl_time_zone",
        "-labsl_str_format_internal",
        "-labsl_strings",
        "-labsl_strings_internal",
        "-labsl_int128",
        "-labsl_stacktrace",
        "-labsl_symbolize",
        "-labsl_debugging_internal",
        "-labsl_malloc_internal",
        "-labsl_bad_optional_access",
        "-labsl_bad_variant_access",
        "-labsl_throw_delegate",
        "-labsl_base",
        "-labsl_spinlock_wait",
        "-labsl_raw_logging_internal",
        "-labsl_log_severity",
        "-lpthread",
    ],
)

cc_library(
    name = "gtest",
    hdrs = glob(["include/gtest/**", "include/gmock/**"]),
    linkopts = ["-lgtest", "-lpthread"],
)

cc_library(
    name = "gtest_main",
    linkopts = ["-lgtest_main"],
    deps = [":gtest"],
)

cc_library(
    name = "json",
    hdrs = glob(["include/nlohmann/**"]),
)

cc_library(
    name = "benchmark",
    hdrs = glob(["include/benchmark/**"]),
    linkopts = ["-lbenchmark", "-lpthread"],
)

cc_library(
    name = "lbfgs",
    hdrs = ["include/lbfgs.h"],
    linkopts = ["-llbfgs"],
)

cc_library(
    name = "netcdf",
    hdrs = glob(
        ["include/netcdf", "include/netcdf*.h", "include/nc*.h"],
        exclude = ["include/ncurses*"],
    ),
    linkopts = ["-lnetcdf_c++4", "-lnetcdf"],
)

# Open MPI's C API (libopenmpi-dev; `mpicxx --showme`). OMPI_SKIP_MPICXX
# leaves out the deprecated C++ bindings, so libmpi_cxx is not needed.
cc_library(
    name = "openmpi",
    hdrs = glob(["lib/x86_64-linux-gnu/openmpi/include/**"]),
    defines = ["OMPI_SKIP_MPICXX=1"],
    includes = ["lib/x86_64-linux-gnu/openmpi/include"],
    linkopts = ["-L/usr/lib/x86_64-linux-gnu/openmpi/lib", "-lmpi"],
)
"""

def nutshell_deps():
    """Declares rules_cc, rules_java, remote_coverage_tools and the system libraries."""
    existing = native.existing_rules()
    if "rules_cc" not in existing:
        native.local_repository(name = "rules_cc", path = _MOCK_REPOS + "/rules_cc")
    if "rules_java" not in existing:
        native.local_repository(name = "rules_java", path = _MOCK_REPOS + "/rules_java")
    if "remote_coverage_tools" not in existing:
        _coverage_stub(name = "remote_coverage_tools")
    if "nutshell_system" not in existing:
        native.new_local_repository(
            name = "nutshell_system",
            path = "/usr",
            build_file_content = _SYSTEM_BUILD,
        )
