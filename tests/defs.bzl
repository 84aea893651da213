"""Test macro: one gtest binary per *_test.cpp, linked against nutshell."""

def nutshell_test(name, size = "medium", deps = [], data = [], **kwargs):
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cpp"] + native.glob(["*.hpp"]),
        copts = ["-std=c++20"],
        deps = deps + [
            "//:nutshell",
            "//tests/support",
            "@nutshell_system//:gtest_main",
        ],
        data = data,
        **kwargs
    )
