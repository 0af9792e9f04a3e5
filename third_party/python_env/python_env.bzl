"""Repository rule that discovers Python, pybind11 and TensorFlow.

It asks the `python3` found on PATH (so an activated virtual environment
decides) for the include directories of Python and pybind11, and for
TensorFlow's compile and link flags. Missing pieces are reported in
`@python_env//:config.bzl` (HAS_PYBIND11, HAS_TENSORFLOW) instead of failing,
so that the TF-free C++ core builds on a machine without them.
"""

_PROBE = """
import json, sys, sysconfig
info = {"python": sys.executable, "python_include": sysconfig.get_paths()["include"]}
try:
    import pybind11
    info["pybind11_include"] = pybind11.get_include()
except Exception:
    pass
try:
    import importlib.util
    if importlib.util.find_spec("tensorflow") is not None:
        import os
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        info["tf_version"] = tf.__version__
        info["tf_include"] = tf.sysconfig.get_include()
        info["tf_lib"] = tf.sysconfig.get_lib()
        info["tf_compile_flags"] = tf.sysconfig.get_compile_flags()
        info["tf_link_flags"] = tf.sysconfig.get_link_flags()
except Exception as e:
    info["tf_error"] = repr(e)
print(json.dumps(info))
"""

def _python_env_impl(ctx):
    python = ctx.which("python3")
    if python == None:
        fail("python3 not found on PATH")
    result = ctx.execute([python, "-c", _PROBE], timeout = 300)
    if result.return_code != 0:
        fail("probing python3 failed:\n" + result.stderr)
    info = json.decode(result.stdout.strip().splitlines()[-1])

    ctx.symlink(info["python_include"], "python_include")
    build = [
        "package(default_visibility = [\"//visibility:public\"])",
        "",
        "cc_library(",
        "    name = \"python_headers\",",
        "    hdrs = glob([\"python_include/**/*.h\"]),",
        "    includes = [\"python_include\"],",
        ")",
    ]
    has_pybind11 = "pybind11_include" in info
    if has_pybind11:
        ctx.symlink(info["pybind11_include"], "pybind11_include")
        build += [
            "",
            "cc_library(",
            "    name = \"pybind11\",",
            "    hdrs = glob([\"pybind11_include/**/*.h\"]),",
            "    includes = [\"pybind11_include\"],",
            "    deps = [\":python_headers\"],",
            ")",
        ]

    has_tf = "tf_include" in info
    if has_tf:
        ctx.symlink(info["tf_include"], "tf_include")
        ctx.symlink(info["tf_lib"], "tf_lib")
        defines = [f[2:] for f in info["tf_compile_flags"] if f.startswith("-D")]
        libs = [f for f in info["tf_link_flags"] if f.startswith("-l")]
        build += [
            "",
            "cc_library(",
            "    name = \"tensorflow\",",
            "    hdrs = glob([\"tf_include/**/*.h\", \"tf_include/**/*.inc\", \"tf_include/**/*.hpp\",",
            "                 \"tf_include/Eigen/**\", \"tf_include/unsupported/**\"],",
            "                exclude_directories = 1),",
            "    includes = [\"tf_include\"],",
            "    defines = %s," % repr(defines),
            "    linkopts = %s," % repr(["-L" + info["tf_lib"], "-Wl,-rpath," + info["tf_lib"]] + libs),
            ")",
        ]

    ctx.file("BUILD", "\n".join(build) + "\n")
    ctx.file("config.bzl", "\n".join([
        "PYTHON = %s" % repr(info["python"]),
        "HAS_PYBIND11 = %s" % has_pybind11,
        "HAS_TENSORFLOW = %s" % has_tf,
        "TF_VERSION = %s" % repr(info.get("tf_version", "")),
        "",
    ]))

python_env_repository = repository_rule(
    implementation = _python_env_impl,
    environ = ["PATH", "VIRTUAL_ENV", "PYTHONPATH"],
    local = True,
)
