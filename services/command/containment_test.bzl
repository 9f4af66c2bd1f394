"""Tests of the command runner, run under each containment mode."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def containment_cc_test(name, **kwargs):
    """A cc_test built twice: `name` runs its commands in PID namespaces, `name`_subreaper under a
    child-subreaper supervisor (process_test_util.h reads FRPC_TEST_CONTAINMENT)."""
    env = dict(kwargs.pop("env", {}))
    cc_test(name = name, env = env, **kwargs)
    env["FRPC_TEST_CONTAINMENT"] = "subreaper"
    cc_test(name = name + "_subreaper", env = env, **kwargs)
