"""Test macro: one gtest binary per *_test.cpp, linked against nutshell."""

def nutshell_test(name, size = "medium", deps = [], data = [], src = None, **kwargs):
    native.cc_test(
        name = name,
        size = size,
        srcs = [src or (name + ".cpp")] + native.glob(["*.hpp"]),
        copts = ["-std=c++20"],
        deps = deps + [
            "//:nutshell",
            "//tests/support",
            "@nutshell_system//:gtest_main",
        ],
        data = data,
        **kwargs
    )
